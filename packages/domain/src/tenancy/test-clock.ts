import { fail, ok, type Result } from "../shared/errors.ts";
import type { Tenant } from "./tenant.ts";

/** How far one advance may move a test clock, in calendar months (a longer rehearsal takes several calls). */
export const MAX_CLOCK_ADVANCE_MONTHS = 24;

/** The latest instant one advance from `from` may reach: the same UTC wall time 24 months later. */
export function clockAdvanceLimit(from: Date): Date {
  const limit = new Date(from.getTime());
  limit.setUTCMonth(limit.getUTCMonth() + MAX_CLOCK_ADVANCE_MONTHS);
  return limit;
}

export interface ClockAdvance {
  readonly from: Date;
  readonly to: Date;
}

/**
 * Whether a tenant's clock may be advanced to `to`: only a sandbox has a test clock, it only moves
 * forward (advancing to the instant it already shows is allowed and runs what is due then), and one
 * call moves it at most `MAX_CLOCK_ADVANCE_MONTHS`.
 */
export function checkClockAdvance(tenant: Tenant, to: Date): Result<ClockAdvance> {
  if (!tenant.sandbox || tenant.clockFrozenAt === null)
    return fail("NOT_A_SANDBOX", "Only a sandbox tenant has a test clock.", { tenantId: tenant.id });
  const from = tenant.clockFrozenAt;
  if (to.getTime() < from.getTime()) {
    return fail("CLOCK_BACKWARDS", "A test clock only moves forward.", {
      frozenAt: from.toISOString(),
      to: to.toISOString(),
    });
  }
  const limit = clockAdvanceLimit(from);
  if (to.getTime() > limit.getTime()) {
    return fail("VALIDATION_FAILED", "One advance moves the clock at most 24 months.", {
      fields: {
        to: `must be at most ${MAX_CLOCK_ADVANCE_MONTHS} months after the clock (${limit.toISOString()})`,
      },
    });
  }
  return ok({ from, to });
}

/** Moves a sandbox's clock to an instant of its advance (never backwards). */
export function moveClockTo(tenant: Tenant, at: Date): void {
  if (tenant.clockFrozenAt === null || at.getTime() < tenant.clockFrozenAt.getTime()) {
    throw new Error("a test clock only moves forward, and only a sandbox has one");
  }
  tenant.clockFrozenAt = at;
}
