import {
  type ComputedInvoice,
  closeDuePeriods,
  convertTrial,
  Deployment,
  issueTerms,
  Subscription,
  trialHasEnded,
  WORKER_ACTOR_ID,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { type NewEvent, recordEvents } from "../events/outbox.ts";
import type { Orm } from "../orm.ts";
import { presentDeployment } from "../presenters/presenters.ts";
import { retryOnConflict } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import {
  allocateInvoiceNumbers,
  claimDueSubscriptions,
  claimEndedTrials,
  countSkippedByOverride,
  type IssuedInvoice,
  lastEventInstants,
  notYetIssued,
  ORDINARY_TENANTS,
  type PassScope,
  writeClosedPeriods,
} from "./rollover-queries.ts";

export { ORDINARY_TENANTS, type PassScope, scopeCondition } from "./rollover-queries.ts";

export interface RolloverOptions {
  /** The worker's clock: periods ending at or before it are closed. */
  readonly now: Date;
  /** Ordinary tenants (the default) or one sandbox tenant at its clock's instant. */
  readonly scope?: PassScope;
  /** Subscriptions claimed per transaction; memory is bounded by this, not by the total. */
  readonly batchSize?: number;
  /** Most periods closed per subscription per batch (catch-up continues in the next batch). */
  readonly maxPeriodsPerBatch?: number;
  readonly workerId?: string;
  /**
   * Batches in flight at once, each in its own transaction on its own connection (SKIP LOCKED
   * keeps their claims apart). PostgreSQL runs one backend per transaction, so a single stream of
   * batches leaves the other cores of the database idle while this process computes. Default 2.
   */
  readonly concurrency?: number;
  /** Called after each committed batch. */
  readonly onBatch?: (progress: RolloverProgress) => void;
  /** Checked between batches: true stops the pass after the batch in flight commits. */
  readonly shouldStop?: () => boolean;
}

export interface RolloverProgress {
  readonly subscriptionsProcessed: number;
  readonly invoicesIssued: number;
  readonly batches: number;
}

export interface RolloverSummary extends RolloverProgress {
  readonly totalsByCurrency: Record<string, number>;
  readonly trialsConverted: number;
  readonly skippedByOverride: number;
  readonly stoppedEarly: boolean;
}

/**
 * One batch of rollover, in one transaction: claim due subscriptions (other workers take other
 * rows), let the domain close each one's due periods (`closeDuePeriods`), number the invoices,
 * write them with their lines and `invoice.issued` events and advance the periods. All or
 * nothing: a crash anywhere leaves the batch unclaimed and unbilled, and the unique
 * (subscription, period_start) constraint is the backstop against a second invoice.
 */
export async function rollOverBatch(
  em: EntityManager,
  now: Date,
  batchSize: number,
  maxPeriods: number,
  scope: PassScope = ORDINARY_TENANTS,
): Promise<{ claimed: number; invoices: ComputedInvoice[] }> {
  const claimed = await claimDueSubscriptions(em, now, batchSize, scope);
  if (claimed.length === 0) return { claimed: 0, invoices: [] };
  const closed = claimed.map((subscription) => ({
    subscription,
    ...closeDuePeriods(subscription.history, now, maxPeriods),
  }));
  // Numbers are per tenant and gap-free (SPEC §3.5): only invoices that do not exist yet take
  // one, from the tenant's counter row advanced in this transaction.
  const toIssue = await notYetIssued(
    em,
    closed.flatMap(({ subscription, invoices }) =>
      invoices.map((invoice) => ({
        invoice,
        subscription,
        subscriptionId: subscription.id,
        tenantId: subscription.tenantId,
        periodStart: invoice.periodStart,
      })),
    ),
  );
  const numbers = await allocateInvoiceNumbers(
    em,
    toIssue.map((s) => s.tenantId),
  );
  const issued: IssuedInvoice[] = toIssue.map(({ invoice, subscription }, i) => {
    // Issued when the pass ran, however late (an advance runs at each period end).
    return {
      ...invoice,
      ...issueTerms(invoice.totalCents, now, numbers[i]!.paymentTermsDays),
      id: newId(),
      number: numbers[i]!.number,
      issuedAt: now,
      subscription,
    };
  });
  const inserted = await writeClosedPeriods(
    em,
    issued,
    closed.map(({ subscription, next }) => ({ ...next, subscriptionId: subscription.id })),
    now,
  );
  const fresh = issued.filter((s) => inserted.has(s.id));
  return { claimed: claimed.length, invoices: fresh };
}

/**
 * Converts trials that have ended (as the system, dated when they ended) in one transaction per
 * batch; rows another worker holds are skipped. Deployments under the operator override are not
 * claimed; they are counted as skipped.
 */
export async function convertTrialsBatch(
  em: EntityManager,
  now: Date,
  batchSize: number,
  workerId: string,
  scope: PassScope = ORDINARY_TENANTS,
): Promise<number> {
  const deploymentIds = await claimEndedTrials(em, now, batchSize, scope);
  if (deploymentIds.length === 0) return 0;
  const deployments = await em.find(Deployment, { id: { $in: deploymentIds } });
  const subscriptions = await em.find(Subscription, { deploymentId: { $in: deploymentIds } });
  const lastEventAt = await lastEventInstants(em, deploymentIds);
  const subscriptionOf = new Map(subscriptions.map((s) => [s.deploymentId, s]));
  const events: NewEvent[] = [];
  for (const deployment of deployments) {
    const subscription = subscriptionOf.get(deployment.id);
    if (!subscription || !trialHasEnded(deployment, subscription, now)) continue;
    const result = convertTrial(deployment, subscription, {
      eventId: newId(),
      lastEventAt: lastEventAt.get(deployment.id) ?? deployment.createdAt,
      workerId,
    });
    if (!result.ok) continue;
    em.persist(result.value);
    events.push({
      type: "deployment.transitioned",
      tenantId: deployment.tenantId,
      occurredAt: result.value.occurredAt,
      data: presentDeployment(deployment),
    });
  }
  await recordEvents(em, events);
  return events.length;
}

/**
 * One pass of the worker at `now`: convert ended trials, then close every due period, in bounded
 * batches until nothing due is left (or a stop is asked for). Safe to run in any number of
 * processes at once and to rerun after a crash.
 */
export async function runRolloverPass(orm: Orm, options: RolloverOptions): Promise<RolloverSummary> {
  const batchSize = options.batchSize ?? 500;
  const maxPeriods = options.maxPeriodsPerBatch ?? 24;
  const workerId = options.workerId ?? WORKER_ACTOR_ID;
  const { now } = options;
  const scope = options.scope ?? ORDINARY_TENANTS;
  let trialsConverted = 0;
  let subscriptionsProcessed = 0;
  let invoicesIssued = 0;
  let batches = 0;
  const totalsByCurrency: Record<string, number> = {};
  const stop = () => options.shouldStop?.() ?? false;

  while (!stop()) {
    const converted = await retryOnConflict(() =>
      orm.em.fork().transactional((em) => convertTrialsBatch(em, now, batchSize, workerId, scope)),
    );
    trialsConverted += converted;
    if (converted < batchSize) break;
  }
  const skippedByOverride = await countSkippedByOverride(orm.em.fork(), now, scope);

  const stream = async () => {
    while (!stop()) {
      const { claimed, invoices } = await retryOnConflict(() =>
        orm.em.fork().transactional((em) => rollOverBatch(em, now, batchSize, maxPeriods, scope)),
      );
      if (claimed === 0) break;
      batches += 1;
      subscriptionsProcessed += claimed;
      invoicesIssued += invoices.length;
      for (const s of invoices)
        totalsByCurrency[s.currency] = (totalsByCurrency[s.currency] ?? 0) + s.totalCents;
      options.onBatch?.({ subscriptionsProcessed, invoicesIssued, batches });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, stream));
  return {
    subscriptionsProcessed,
    invoicesIssued,
    batches,
    totalsByCurrency,
    trialsConverted,
    skippedByOverride,
    stoppedEarly: stop(),
  };
}
