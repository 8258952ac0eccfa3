/**
 * The event types of SPEC §3.9, one per kind of state change. Every change writes its event in the
 * same transaction (the outbox); the feed and the webhooks serve them.
 */
export const EVENT_TYPES = [
  "deployment.created",
  "deployment.updated",
  "deployment.transitioned",
  "subscription.created",
  "subscription.plan_changed",
  "subscription.addon_attached",
  "subscription.addon_detached",
  "invoice.issued",
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.overdue",
  "invoice.voided",
  "invoice.marked_uncollectible",
  "payment.succeeded",
  "payment.failed",
  "resource.registered",
  "resource.released",
  "webhook_endpoint.disabled",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
