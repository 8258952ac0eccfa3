import { type EventTransaction, recordEvent } from "../events/outbox.ts";
import { presentWebhookEndpoint } from "../presenters/presenters.ts";
import { tenantClocks } from "../shared/clock.ts";

/**
 * Records `webhook_endpoint.disabled` in the transaction that disabled the endpoint (by the
 * schedule or by hand) at `disabledAt` (the wall clock), with the endpoint as the API shows it
 * after the change. A tenant's endpoint makes a tenant event, dated by the tenant's clock like
 * every event (a sandbox's test clock; otherwise `disabledAt` itself); a platform-wide endpoint
 * makes a platform event (no tenant, dated `disabledAt`), which only platform admins see in the
 * feed and only the other platform-wide endpoints receive.
 */
export async function recordEndpointDisabled(
  tx: EventTransaction,
  endpoint: Parameters<typeof presentWebhookEndpoint>[0],
  disabledAt: Date,
): Promise<void> {
  const occurredAt = endpoint.tenantId
    ? await tenantClocks(() => disabledAt).tenantNow(tx, endpoint.tenantId)
    : disabledAt;
  await recordEvent(tx, {
    type: "webhook_endpoint.disabled",
    tenantId: endpoint.tenantId,
    occurredAt,
    data: presentWebhookEndpoint(endpoint),
  });
}
