import { describe, expect, it } from "vitest";
import {
  endpointHasFailedTooLong,
  isSuccessfulStatus,
  nextAttemptAfterFailure,
  signingSecrets,
  WEBHOOK_DISABLE_AFTER_MS,
} from "./delivery-schedule.ts";

const at = (ms: number) => new Date(Date.UTC(2026, 10, 1) + ms);
const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe("webhook delivery schedule", () => {
  it("retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7].map(
      (n) => nextAttemptAfterFailure(n, at(0))!.getTime() - at(0).getTime(),
    );
    expect(waits).toEqual([5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
    expect(nextAttemptAfterFailure(8, at(0))).toBeNull();
  });

  it("counts only 2xx as success", () => {
    expect([199, 200, 204, 299, 300, 302, 404, 500].map(isSuccessfulStatus)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(isSuccessfulStatus(null)).toBe(false);
  });

  it("disables an endpoint after 5 days without success, not before", () => {
    expect(endpointHasFailedTooLong(null, at(10 * 24 * H))).toBe(false);
    expect(endpointHasFailedTooLong(at(0), at(WEBHOOK_DISABLE_AFTER_MS - 1))).toBe(false);
    expect(endpointHasFailedTooLong(at(0), at(WEBHOOK_DISABLE_AFTER_MS))).toBe(true);
  });

  it("signs with the previous secret too for 24 hours after a rotation", () => {
    const endpoint = { secret: "new", previousSecret: "old", previousSecretExpiresAt: at(24 * H) };
    expect(signingSecrets(endpoint, at(0))).toEqual(["new", "old"]);
    expect(signingSecrets(endpoint, at(24 * H))).toEqual(["new"]);
    expect(
      signingSecrets({ secret: "only", previousSecret: null, previousSecretExpiresAt: null }, at(0)),
    ).toEqual(["only"]);
  });
});
