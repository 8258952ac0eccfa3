/**
 * Delivery rules of SPEC §3.9 (Standard Webhooks): when to try again after a failed attempt, when
 * a delivery has failed for good, and when an endpoint with no success is switched off.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The waits before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery has failed. */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** An attempt not answered with a 2xx within this long has failed. */
export const WEBHOOK_TIMEOUT_MS = 10 * SECOND;
/** At most this much of a response is read (and never stored whole). */
export const WEBHOOK_RESPONSE_LIMIT_BYTES = 64 * 1024;
/** An endpoint with no successful delivery for this long is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * HOUR;
/** After a rotation the previous secret keeps signing alongside the new one for this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * HOUR;

/**
 * After failed attempt number `attempt` (1 for the first), when the next one is due, or null when
 * the schedule is exhausted and the delivery has failed.
 */
export function nextAttemptAfterFailure(attempt: number, failedAt: Date): Date | null {
  const delay = WEBHOOK_RETRY_DELAYS_MS[attempt - 1];
  return delay === undefined ? null : new Date(failedAt.getTime() + delay);
}

/** Whether a failure at `now` leaves the endpoint without a success for the whole disable window. */
export function endpointHasFailedTooLong(failingSince: Date | null, now: Date): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= WEBHOOK_DISABLE_AFTER_MS;
}

/** Whether a 2xx came back: any other status (or none) is a failure. */
export function isSuccessfulStatus(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

/** The secrets that sign at `now`: the current one, and the previous one while its overlap lasts. */
export function signingSecrets(
  endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now: Date,
): string[] {
  const previousActive =
    endpoint.previousSecret !== null &&
    endpoint.previousSecretExpiresAt !== null &&
    endpoint.previousSecretExpiresAt.getTime() > now.getTime();
  return previousActive ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}
