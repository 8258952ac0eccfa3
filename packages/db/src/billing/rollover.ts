import {
  type ComputedStatement,
  convertTrial,
  Deployment,
  type DeploymentState,
  type PlanChange,
  type PlanVersion,
  rollOverPeriod,
  type Subscription,
  Subscription as SubscriptionEntity,
  statementForPeriod,
  statementNumber,
  trialHasEnded,
  WORKER_ACTOR_ID,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Orm } from "../orm.ts";
import { newId } from "../shared/ids.ts";
import { instant, instantOrNull, sqlOn } from "../shared/sql.ts";

/**
 * Whose data a pass touches. The real-time worker's passes take every ordinary tenant and leave
 * sandboxes alone (their time is their test clock); an advance of a test clock runs the same passes
 * for its one sandbox tenant, at each due instant.
 */
export type PassScope =
  | { readonly kind: "ordinary" }
  | { readonly kind: "sandbox"; readonly tenantId: string };

export const ORDINARY_TENANTS: PassScope = { kind: "ordinary" };

/** The SQL condition (with its parameters) that keeps a pass to its scope; `tenant` names the tenant_id column. */
export function scopeCondition(scope: PassScope, tenant: string): { sql: string; params: unknown[] } {
  return scope.kind === "ordinary"
    ? { sql: `not exists (select 1 from tenants t where t.id = ${tenant} and t.sandbox)`, params: [] }
    : { sql: `${tenant} = ?`, params: [scope.tenantId] };
}

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
  readonly statementsIssued: number;
  readonly batches: number;
}

export interface RolloverSummary extends RolloverProgress {
  readonly totalsByCurrency: Record<string, number>;
  readonly trialsConverted: number;
  readonly skippedByOverride: number;
  readonly stoppedEarly: boolean;
}

interface ClaimedRow {
  id: string;
  deployment_id: string;
  tenant_id: string;
  status: Subscription["status"];
  current_period_start: Date;
  current_period_end: Date;
  cancelled_at: Date | null;
  created_at: Date;
  plan_version_id: string;
}

interface PlanChangeRow {
  subscription_id: string;
  effective_at: Date;
  requested_at: Date;
  sequence: number;
  plan_version_id: string;
  plan_code: string;
  version: number;
  price_cents: string;
  currency: string;
}

interface AttachmentRow {
  id: string;
  subscription_id: string;
  addon_code: string;
  qty: string;
  price_cents: string;
  attached_at: Date;
  detached_at: Date | null;
}

interface EventRow {
  deployment_id: string;
  sequence: number;
  to_state: DeploymentState;
  occurred_at: Date;
}

const ids = (rows: { id: string }[]) => JSON.stringify(rows.map((r) => r.id));

function groupBy<T, K extends keyof T>(rows: T[], key: K): Map<T[K], T[]> {
  const map = new Map<T[K], T[]>();
  for (const row of rows) {
    const list = map.get(row[key]);
    if (list) list.push(row);
    else map.set(row[key], [row]);
  }
  return map;
}

/**
 * One batch of rollover, in one transaction: claim due subscriptions with FOR UPDATE SKIP LOCKED
 * (other workers take other rows), compute every due period's statement with the domain's pure
 * function, write statements and lines set-wise, advance the periods. All or nothing: a crash
 * anywhere leaves the batch unclaimed and unbilled, and the unique (subscription, period_start)
 * constraint is the backstop against a second statement.
 */
export async function rollOverBatch(
  em: EntityManager,
  now: Date,
  batchSize: number,
  maxPeriods: number,
  scope: PassScope = ORDINARY_TENANTS,
): Promise<{ claimed: number; statements: ComputedStatement[] }> {
  const sql = sqlOn(em);
  const inScope = scopeCondition(scope, "subscriptions.tenant_id");
  const claimed = await sql<ClaimedRow[]>(
    `select id, deployment_id, tenant_id, status, current_period_start, current_period_end, cancelled_at, created_at, plan_version_id
       from subscriptions
      where ended_at is null and current_period_end <= ? and ${inScope.sql}
      order by current_period_end, id
      limit ?
      for update skip locked`,
    [now, ...inScope.params, batchSize],
  );
  if (claimed.length === 0) return { claimed: 0, statements: [] };
  const subscriptionIds = ids(claimed);
  const deploymentIds = JSON.stringify(claimed.map((c) => c.deployment_id));
  // One connection runs one query at a time: these go in sequence.
  const changeRows = await sql<PlanChangeRow[]>(
    `select c.subscription_id, c.effective_at, c.requested_at, c.sequence, v.id as plan_version_id, p.code as plan_code, v.version, v.price_cents, v.currency
         from subscription_plan_changes c
         join plan_versions v on v.id = c.to_plan_version_id
         join plans p on p.id = v.plan_id
        where c.subscription_id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and c.superseded_at is null`,
    [subscriptionIds],
  );
  const attachmentRows = await sql<AttachmentRow[]>(
    `select id, subscription_id, addon_code, qty, price_cents, attached_at, detached_at
         from subscription_addons
        where subscription_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [subscriptionIds],
  );
  const eventRows = await sql<EventRow[]>(
    `select deployment_id, sequence, to_state, occurred_at
         from deployment_events
        where deployment_id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and occurred_at < ?`,
    [deploymentIds, now],
  );
  const changesBySub = groupBy(changeRows, "subscription_id");
  const attachmentsBySub = groupBy(attachmentRows, "subscription_id");
  const eventsByDeployment = groupBy(eventRows, "deployment_id");

  const statements: (ComputedStatement & { id: string; subscription: ClaimedRow })[] = [];
  const advanced: {
    id: string;
    start: Date;
    end: Date;
    endedAt: Date | null;
    planVersionId: string;
    pendingPlanVersionId: string | null;
  }[] = [];
  for (const row of claimed) {
    const versions = new Map<string, PlanVersion>();
    const changes = (changesBySub.get(row.id) ?? []).map((c) => {
      let version = versions.get(c.plan_version_id);
      if (!version) {
        version = {
          id: c.plan_version_id,
          plan: { id: "", code: c.plan_code, name: "", createdAt: now },
          version: c.version,
          priceCents: Number(c.price_cents),
          currency: c.currency,
          trialDays: 0,
          includes: {},
          createdAt: now,
        };
        versions.set(c.plan_version_id, version);
      }
      return {
        toPlanVersion: version,
        effectiveAt: instant(c.effective_at),
        requestedAt: instant(c.requested_at),
        sequence: c.sequence,
        supersededAt: null,
      } as PlanChange;
    });
    const current = versions.get(row.plan_version_id);
    if (!current) throw new Error(`subscription ${row.id} has no plan-change history for its plan version`);
    const subscription = {
      id: row.id,
      status: row.status,
      currentPeriodStart: instant(row.current_period_start),
      currentPeriodEnd: instant(row.current_period_end),
      cancelledAt: instantOrNull(row.cancelled_at),
      endedAt: null,
      planVersion: current,
      pendingPlanVersion: null,
      createdAt: instant(row.created_at),
      updatedAt: now,
    } as unknown as Subscription;
    const attachments = (attachmentsBySub.get(row.id) ?? []).map((a) => ({
      id: a.id,
      addonCode: a.addon_code,
      qty: a.qty,
      priceCents: Number(a.price_cents),
      attachedAt: instant(a.attached_at),
      detachedAt: instantOrNull(a.detached_at),
    }));
    const events = (eventsByDeployment.get(row.deployment_id) ?? []).map((e) => ({
      sequence: e.sequence,
      toState: e.to_state,
      occurredAt: instant(e.occurred_at),
    }));
    const planChanges = changes.map((c) => ({
      effectiveAt: c.effectiveAt,
      sequence: c.sequence,
      planVersion: {
        id: c.toPlanVersion.id,
        planCode: c.toPlanVersion.plan.code,
        version: c.toPlanVersion.version,
        priceCents: c.toPlanVersion.priceCents,
      },
    }));
    for (
      let i = 0;
      i < maxPeriods &&
      subscription.endedAt === null &&
      subscription.currentPeriodEnd.getTime() <= now.getTime();
      i++
    ) {
      const period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
      const computed = statementForPeriod({
        period,
        currency: current.currency,
        subscribedAt: subscription.createdAt,
        planChanges,
        attachments,
        events,
      });
      statements.push({ ...computed, id: newId(), subscription: row });
      rollOverPeriod(subscription, changes, now);
    }
    advanced.push({
      id: row.id,
      start: subscription.currentPeriodStart,
      end: subscription.currentPeriodEnd,
      endedAt: subscription.endedAt,
      planVersionId: subscription.planVersion.id,
      pendingPlanVersionId: subscription.pendingPlanVersion?.id ?? null,
    });
  }

  const serials = await sql<{ n: string }[]>(
    "select nextval('statement_number_seq')::text as n from generate_series(1, ?)",
    [statements.length],
  );
  const input = statements.map((s, i) => ({
    id: s.id,
    number: statementNumber(s.periodStart, serials[i]!.n),
    tenant_id: s.subscription.tenant_id,
    deployment_id: s.subscription.deployment_id,
    subscription_id: s.subscription.id,
    period_start: s.periodStart.toISOString(),
    period_end: s.periodEnd.toISOString(),
    currency: s.currency,
    total_cents: s.totalCents,
    lines: s.lines.map((line, position) => ({
      position,
      kind: line.kind,
      description: line.description,
      ref_id: line.refId,
      unit_price_cents: line.unitPriceCents,
      billable_ms: line.billableMs,
      period_ms: line.periodMs,
      amount_cents: line.amountCents,
    })),
  }));
  const periods = advanced.map((a) => ({
    id: a.id,
    period_start: a.start.toISOString(),
    period_end: a.end.toISOString(),
    ended_at: a.endedAt?.toISOString() ?? null,
    plan_version_id: a.planVersionId,
    pending_plan_version_id: a.pendingPlanVersionId,
  }));
  // One round trip: statements, their lines (only for statements actually inserted: one that
  // already exists for its (subscription, period) is kept as it was, and the period still
  // advances, so a repair run never bills twice), and the periods advanced.
  const inserted = await sql<{ id: string }[]>(
    `with input as (
       select * from jsonb_to_recordset(?::jsonb) as x(id uuid, number text, tenant_id uuid, deployment_id uuid, subscription_id uuid,
              period_start timestamptz, period_end timestamptz, currency text, total_cents bigint, lines jsonb)
     ), st as (
       insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at)
       select id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, 'open', ?
         from input
       on conflict (subscription_id, period_start) do nothing
       returning id
     ), ln as (
       insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents)
       select gen_random_uuid(), st.id, l.position, l.kind, l.description, l.ref_id, l.unit_price_cents, l.billable_ms, l.period_ms, l.amount_cents
         from st join input i on i.id = st.id
         cross join lateral jsonb_to_recordset(i.lines) as l(position int, kind text, description text, ref_id uuid,
              unit_price_cents bigint, billable_ms bigint, period_ms bigint, amount_cents bigint)
     ), up as (
       update subscriptions s
          set current_period_start = x.period_start, current_period_end = x.period_end, ended_at = x.ended_at,
              plan_version_id = x.plan_version_id, pending_plan_version_id = x.pending_plan_version_id, updated_at = ?
         from jsonb_to_recordset(?::jsonb) as x(id uuid, period_start timestamptz, period_end timestamptz, ended_at timestamptz,
              plan_version_id uuid, pending_plan_version_id uuid)
        where s.id = x.id
     )
     select id from st`,
    [JSON.stringify(input), now, now, JSON.stringify(periods)],
  );
  const fresh = new Set(inserted.map((r) => r.id));
  return { claimed: claimed.length, statements: statements.filter((s) => fresh.has(s.id)) };
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
  const sql = sqlOn(em);
  const inScope = scopeCondition(scope, "d.tenant_id");
  const due = await sql<{ deployment_id: string }[]>(
    `select d.id as deployment_id
       from deployments d join subscriptions s on s.deployment_id = d.id
      where d.state = 'trial' and d.billing_action_suspended = false and s.trial_ends_at <= ? and ${inScope.sql}
      order by s.trial_ends_at, d.id
      limit ?
      for update of d, s skip locked`,
    [now, ...inScope.params, batchSize],
  );
  if (due.length === 0) return 0;
  const deploymentIds = due.map((d) => d.deployment_id);
  const deployments = await em.find(Deployment, { id: { $in: deploymentIds } });
  const subscriptions = await em.find(SubscriptionEntity, { deploymentId: { $in: deploymentIds } });
  const lastEvents = await sql<{ deployment_id: string; occurred_at: Date }[]>(
    `select deployment_id, max(occurred_at) as occurred_at from deployment_events
        where deployment_id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) group by deployment_id`,
    [JSON.stringify(deploymentIds)],
  );
  const subscriptionOf = new Map(subscriptions.map((s) => [s.deploymentId, s]));
  const lastEventAt = new Map(lastEvents.map((e) => [e.deployment_id, instant(e.occurred_at)]));
  let converted = 0;
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
    converted += 1;
  }
  return converted;
}

async function countSkippedByOverride(em: EntityManager, now: Date, scope: PassScope): Promise<number> {
  const inScope = scopeCondition(scope, "d.tenant_id");
  const rows = await sqlOn(em)<{ n: number }[]>(
    `select count(*)::int as n from deployments d join subscriptions s on s.deployment_id = d.id
      where d.state = 'trial' and d.billing_action_suspended = true and s.trial_ends_at <= ? and ${inScope.sql}`,
    [now, ...inScope.params],
  );
  return rows[0]?.n ?? 0;
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
  let statementsIssued = 0;
  let batches = 0;
  const totalsByCurrency: Record<string, number> = {};
  const stop = () => options.shouldStop?.() ?? false;

  while (!stop()) {
    const converted = await orm.em
      .fork()
      .transactional((em) => convertTrialsBatch(em, now, batchSize, workerId, scope));
    trialsConverted += converted;
    if (converted < batchSize) break;
  }
  const skippedByOverride = await countSkippedByOverride(orm.em.fork(), now, scope);

  const stream = async () => {
    while (!stop()) {
      const { claimed, statements } = await orm.em
        .fork()
        .transactional((em) => rollOverBatch(em, now, batchSize, maxPeriods, scope));
      if (claimed === 0) break;
      batches += 1;
      subscriptionsProcessed += claimed;
      statementsIssued += statements.length;
      for (const s of statements)
        totalsByCurrency[s.currency] = (totalsByCurrency[s.currency] ?? 0) + s.totalCents;
      options.onBatch?.({ subscriptionsProcessed, statementsIssued, batches });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, stream));
  return {
    subscriptionsProcessed,
    statementsIssued,
    batches,
    totalsByCurrency,
    trialsConverted,
    skippedByOverride,
    stoppedEarly: stop(),
  };
}
