import { type EventTransaction, recordEvent } from "../events/outbox.ts";
import { presentWebhookEndpoint } from "../presenters/presenters.ts";
import type { Clock } from "../shared/clock.ts";

/**
 * Records `webhook_endpoint.disabled` in the transaction that disabled the endpoint (by the
 * schedule or by hand), with the endpoint as the API shows it after the change. A tenant's
 * endpoint makes a tenant event, dated by the tenant's clock like every event (a sandbox's test
 * clock); a platform-wide endpoint makes a platform event (no tenant, the wall clock), which only
 * platform admins see in the feed and only the other platform-wide endpoints receive.
 */
export async function recordEndpointDisabled(
  tx: EventTransaction,
  clock: Clock,
  endpoint: Parameters<typeof presentWebhookEndpoint>[0],
): Promise<void> {
  const occurredAt = endpoint.tenantId ? await clock.tenantNow(tx, endpoint.tenantId) : clock.wallNow();
  await recordEvent(tx, {
    type: "webhook_endpoint.disabled",
    tenantId: endpoint.tenantId,
    occurredAt,
    data: presentWebhookEndpoint(endpoint),
  });
}
