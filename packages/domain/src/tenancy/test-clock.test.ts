import { describe, expect, it } from "vitest";
import { unwrap } from "../shared/errors.ts";
import { createTenant } from "./tenant.ts";
import { checkClockAdvance, clockAdvanceLimit } from "./test-clock.ts";

const at = (iso: string) => new Date(iso);
const now = at("2026-11-16T00:00:00Z");
const sandbox = () =>
  unwrap(
    createTenant({
      id: "t",
      slug: "sand",
      name: "S",
      testClock: { frozenAt: at("2027-01-31T10:00:00Z") },
      now,
    }),
  );

describe("test clocks", () => {
  it("a tenant created with a test clock is a sandbox at that instant; without, an ordinary tenant", () => {
    expect(sandbox()).toMatchObject({ sandbox: true, clockFrozenAt: at("2027-01-31T10:00:00Z") });
    expect(unwrap(createTenant({ id: "o", slug: "plain", name: "P", now }))).toMatchObject({
      sandbox: false,
      clockFrozenAt: null,
    });
  });

  it("moves forward only, to the instant it shows at the least, at most 24 months per call", () => {
    const tenant = sandbox();
    expect(checkClockAdvance(tenant, at("2027-01-31T10:00:00Z"))).toMatchObject({ ok: true });
    expect(checkClockAdvance(tenant, at("2029-01-31T10:00:00Z"))).toMatchObject({ ok: true });
    const backwards = checkClockAdvance(tenant, at("2027-01-31T09:59:59.999Z"));
    expect(backwards.ok ? null : backwards.error.code).toBe("CLOCK_BACKWARDS");
    const tooFar = checkClockAdvance(tenant, at("2029-01-31T10:00:00.001Z"));
    expect(tooFar.ok ? null : tooFar.error.code).toBe("VALIDATION_FAILED");
    expect(clockAdvanceLimit(at("2027-01-31T10:00:00Z")).toISOString()).toBe("2029-01-31T10:00:00.000Z");
  });

  it("an ordinary tenant has no clock to advance", () => {
    const plain = unwrap(createTenant({ id: "o", slug: "plain", name: "P", now }));
    const result = checkClockAdvance(plain, at("2030-01-01T00:00:00Z"));
    expect(result.ok ? null : result.error.code).toBe("NOT_A_SANDBOX");
  });
});
