import {
  checkClockAdvance,
  DomainError,
  moveClockTo,
  type Principal,
  requireWriter,
  Tenant,
  unwrap,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { DUE_WORK, type DueWindow, type DueWork, type DueWorkCounts } from "../billing/due-work.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound } from "../shared/lookup.ts";
import { sqlOn } from "../shared/sql.ts";

export interface TestClockView {
  readonly tenantId: string;
  readonly frozenAt: Date;
}

export interface InstantVisited extends DueWorkCounts {
  readonly at: Date;
}

export interface ClockAdvanceSummary extends DueWorkCounts {
  readonly tenantId: string;
  readonly from: Date;
  readonly to: Date;
  /** Every instant at which something was due, in order, with what ran there. */
  readonly instants: InstantVisited[];
}

/** The tenant, if the principal may see it: another tenant's is NOT_FOUND, as everywhere. */
async function visibleTenant(em: EntityManager, principal: Principal, tenantId: string): Promise<Tenant> {
  const tenant = isUuid(tenantId) ? await em.findOne(Tenant, { id: tenantId }) : null;
  if (!tenant || (principal.role !== "platform_admin" && principal.tenantId !== tenant.id))
    throw notFound("Tenant");
  unwrap(requireWriter(principal));
  return tenant;
}

function notASandbox(tenant: Tenant): DomainError {
  return new DomainError("NOT_A_SANDBOX", "Only a sandbox tenant has a test clock.", { tenantId: tenant.id });
}

/** A sandbox's clock (its tenant admins and operators; NOT_A_SANDBOX for an ordinary tenant). */
export async function getTestClock(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
): Promise<TestClockView> {
  const tenant = await visibleTenant(ctx.em, principal, tenantId);
  if (!tenant.sandbox || tenant.clockFrozenAt === null) throw notASandbox(tenant);
  return { tenantId: tenant.id, frozenAt: tenant.clockFrozenAt };
}

const add = (into: DueWorkCounts, counts: Partial<DueWorkCounts>) => {
  for (const key of Object.keys(counts) as (keyof DueWorkCounts)[]) into[key] += counts[key] ?? 0;
};

/**
 * Advances a sandbox's clock to `to`, running every pass due for its data at each due instant in
 * time order (SPEC §3.10), each dated at its instant, in one transaction:
 * - the tenant's deployments, then its subscriptions, then the tenant row are locked (the order
 *   every use case takes them in, so no deadlock); a concurrent advance of the same clock waits and
 *   then starts from the clock this one left, and a concurrent write of the tenant's waits and
 *   then reads the advanced clock;
 * - everything commits together with the clock: a crash leaves the clock and the data as they
 *   were, so the next advance simply runs the same instants again — nothing runs twice.
 */
export async function advanceTestClock(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
  to: Date,
  sources: readonly DueWork[] = DUE_WORK,
): Promise<ClockAdvanceSummary> {
  const seen = await visibleTenant(ctx.em, principal, tenantId);
  unwrap(checkClockAdvance(seen, to)); // refused before any lock is taken
  return ctx.em.transactional(async (em) => {
    const sql = sqlOn(em);
    await sql("select id from deployments where tenant_id = ? order by id for update", [seen.id]);
    await sql("select id from subscriptions where tenant_id = ? order by id for update", [seen.id]);
    await sql("select id from tenants where id = ? for no key update", [seen.id]);
    const tenant = await em.findOneOrFail(Tenant, { id: seen.id }, { refresh: true });
    const { from } = unwrap(checkClockAdvance(tenant, to));
    const scope = { kind: "sandbox", tenantId: tenant.id } as const;
    const total: DueWorkCounts = { invoicesIssued: 0, transitionsMade: 0 };
    const instants: InstantVisited[] = [];
    let after: Date | null = null;
    for (;;) {
      // Work left due at an instant already visited was skipped there on purpose (a pass leaves
      // what it may not touch), so the next instant is strictly later.
      const due = await nextInstant(em, sources, tenant.id, { after, upTo: to });
      if (due === null) break;
      const at = due.getTime() < from.getTime() ? from : due;
      await setClock(em, tenant, at);
      const counts: DueWorkCounts = { invoicesIssued: 0, transitionsMade: 0 };
      for (const source of sources) add(counts, await source.run(em, scope, at));
      instants.push({ at, ...counts });
      add(total, counts);
      after = at;
    }
    await setClock(em, tenant, to);
    return { tenantId: tenant.id, from, to, instants, ...total };
  });
}

/** The earliest instant at which any source has work: up to `to`, and after the last one visited. */
async function nextInstant(
  em: EntityManager,
  sources: readonly DueWork[],
  tenantId: string,
  window: DueWindow,
): Promise<Date | null> {
  let next: Date | null = null;
  for (const source of sources) {
    const due = await source.nextDue(em, tenantId, window);
    if (due !== null && (next === null || due.getTime() < next.getTime())) next = due;
  }
  return next;
}

/**
 * Moves the sandbox's clock: what every read of its "now" inside this transaction sees, so a pass
 * (or collection's use cases) asking `tenantNow` get the instant being visited. Plain SQL: passes
 * clear the unit of work between batches.
 */
async function setClock(em: EntityManager, tenant: Tenant, at: Date): Promise<void> {
  if (tenant.clockFrozenAt?.getTime() === at.getTime()) return;
  moveClockTo(tenant, at);
  await sqlOn(em)("update tenants set clock_frozen_at = ? where id = ?", [at, tenant.id]);
}
