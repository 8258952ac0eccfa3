import { WORKER_ACTOR_ID } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { runCollectionPass } from "../collection/collection-pass.ts";
import { defaultPaymentProviders } from "../collection/sandbox-provider.ts";
import { instantOrNull, sqlOn } from "../shared/sql.ts";
import { convertTrialsBatch, type PassScope, rollOverBatch } from "./rollover.ts";
import { DUE } from "./rollover-queries.ts";

/** What one pass did at one instant of an advance; the advance adds them up per instant and in total. */
export interface DueWorkCounts {
  invoicesIssued: number;
  /** Lifecycle transitions made as `system` (trial ends; later collection's past_due, suspend, …). */
  transitionsMade: number;
}

/**
 * A kind of work that falls due at instants of a tenant's data: period ends, trial ends, and (from
 * collection) payment retries and dunning steps. Advancing a test clock asks every source for its
 * next due instant, moves the clock there, runs every source at that instant in this list's order,
 * and repeats until `to` (billing/test-clock advance in tenancy/test-clock.ts).
 *
 * To add one: implement `nextDue` (the earliest instant in the window — after `after`, when given,
 * and at most `upTo` — at which `run` would do something for the tenant; work it skips, e.g. under
 * an operator override, should not count, or the advance visits that instant for nothing) and
 * `run` (do everything due at or before `at` for the tenant, inside the advance's transaction `em`,
 * dated `at`, and count it), then append it to `DUE_WORK`. Both run with the tenant's deployments,
 * subscriptions and tenant row locked by the advance.
 */
export interface DueWork {
  readonly name: string;
  nextDue(em: EntityManager, tenantId: string, window: DueWindow): Promise<Date | null>;
  run(em: EntityManager, scope: PassScope & { kind: "sandbox" }, at: Date): Promise<Partial<DueWorkCounts>>;
}

/** Due instants an advance asks for: after `after` (all of them up to `upTo` when it is null). */
export interface DueWindow {
  readonly after: Date | null;
  readonly upTo: Date;
}

const BATCH = 500;

/** The smallest `column` of the rows `from` selects that lies in the window (`from` ends in a where clause). */
async function earliest(
  em: EntityManager,
  column: string,
  from: string,
  params: unknown[],
  window: DueWindow,
): Promise<Date | null> {
  const after = window.after === null ? "" : ` and ${column} > ?`;
  const [row] = await sqlOn(em)<{ at: unknown }[]>(
    `select min(${column}) as at ${from} and ${column} <= ?${after}`,
    [...params, window.upTo, ...(window.after === null ? [] : [window.after])],
  );
  return instantOrNull(row?.at ?? null);
}

/** Trials ending: `trial → active` as the system, dated when the trial ended. */
export const trialEnds: DueWork = {
  name: "trial ends",
  nextDue: (em, tenantId, window) =>
    earliest(
      em,
      DUE.trials.at,
      `from ${DUE.trials.from} where d.tenant_id = ? and ${DUE.trials.where}`,
      [tenantId],
      window,
    ),
  async run(em, scope, at) {
    let transitionsMade = 0;
    for (;;) {
      const converted = await convertTrialsBatch(em, at, BATCH, WORKER_ACTOR_ID, scope);
      await em.flush();
      transitionsMade += converted;
      if (converted < BATCH) break;
    }
    em.clear();
    return { transitionsMade };
  },
};

/** Billing periods ending: the period's invoice, the pending plan change, the next period. */
export const periodEnds: DueWork = {
  name: "period ends",
  nextDue: (em, tenantId, window) =>
    earliest(
      em,
      DUE.periods.at,
      `from ${DUE.periods.from} where s.tenant_id = ? and ${DUE.periods.where}`,
      [tenantId],
      window,
    ),
  async run(em, scope, at) {
    let invoicesIssued = 0;
    for (;;) {
      const { claimed, invoices } = await rollOverBatch(em, at, BATCH, 24, scope);
      invoicesIssued += invoices.length;
      if (claimed === 0) break;
    }
    return { invoicesIssued };
  },
};

/**
 * Collection as a source of due work for a test clock's advance (billing/due-work.ts): the
 * earliest collection appointment of the sandbox's deployments (a charge at issue, a retry at
 * `dueAt + d`, a ladder step, a reconciliation), and the collection pass run at that instant inside
 * the advance's transaction. Deployments under the operator override are left out of `nextDue`:
 * collection skips them on purpose.
 */
export const collectionSteps: DueWork = {
  name: "collection",
  async nextDue(em, tenantId, window) {
    const after = window.after === null ? "" : " and c.due_at > ?";
    const [row] = await sqlOn(em)<{ at: unknown }[]>(
      `select min(c.due_at) as at from collection_schedule c join deployments d on d.id = c.deployment_id
        where d.tenant_id = ? and d.billing_action_suspended = false and c.due_at <= ?${after}`,
      [tenantId, window.upTo, ...(window.after === null ? [] : [window.after])],
    );
    return instantOrNull(row?.at ?? null);
  },
  async run(em, scope, at) {
    await em.flush();
    const summary = await runCollectionPass(
      { em },
      { now: at, scope, providers: defaultPaymentProviders({ em }, em), within: em },
    );
    em.clear();
    const t = summary.transitions;
    return { transitionsMade: t.past_due + t.suspended + t.cancelled + t.archived + t.settled };
  },
};

/** Every source of due work, in the order they run at one instant (as the worker's pass does). */
export const DUE_WORK: readonly DueWork[] = [trialEnds, periodEnds, collectionSteps];
