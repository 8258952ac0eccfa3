import type { WebhookEndpoint } from "../mapping/webhooks.ts";

/** An endpoint with its secret, shown once: at creation and at rotation. */
export interface EndpointWithSecret {
  readonly endpoint: WebhookEndpoint;
  readonly secret: string;
}

/** An event queued for an endpoint again (redeliver). */
export interface Redelivery {
  readonly endpointId: string;
  readonly eventId: string;
  readonly status: "pending";
  readonly nextAttemptAt: Date;
}
