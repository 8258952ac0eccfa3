import type {
  BillingHistory,
  ComputedInvoice,
  InvoiceStatus,
  NextBillingState,
  PlanVersion,
} from "@arcadia/domain";
import { invoiceNumber } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { planVersionFromRow, VERSION_COLUMNS } from "../mapping/catalog.ts";
import { DEPLOYMENT_EVENT_COLUMNS, deploymentEventFromRow } from "../mapping/deployments.ts";
import {
  ADDON_ATTACHMENT_COLUMNS,
  addonAttachmentFromRow,
  PLAN_CHANGE_COLUMNS,
  planChangeFromRow,
  SUBSCRIPTION_COLUMNS,
  subscriptionFromRow,
} from "../mapping/subscriptions.ts";
import { invoiceJsonWithLines, LINE_JSON } from "../presenters/json-reads.ts";
import { newId } from "../shared/ids.ts";
import { instant, type Row, sqlOn } from "../shared/sql.ts";

/**
 * The SQL of the worker's passes: it claims, loads and writes; every decision (which period is
 * due, which plan change applies, what an invoice says) is the domain's `closeDuePeriods`.
 */

/**
 * Whose data a pass touches. The real-time worker's passes take every ordinary tenant and leave
 * sandboxes alone (their time is their test clock); an advance of a test clock runs the same passes
 * for its one sandbox tenant, at each due instant.
 */
export type PassScope =
  | { readonly kind: "ordinary" }
  | { readonly kind: "sandbox"; readonly tenantId: string };

export const ORDINARY_TENANTS: PassScope = { kind: "ordinary" };

/**
 * The SQL condition (with its parameters) that keeps a pass to its scope; `tenant` names the
 * tenant_id column; `placeholder` is the parameter's (`$3` for a plain-SQL connection). The ordinary scope is a hashed `not in`, not a `not exists`: with one
 * ordinary tenant (or a few large ones) the planner estimates the anti-join leaves a single row,
 * and then sorts every due row of the table for each batch instead of walking the due index.
 */
export function scopeCondition(
  scope: PassScope,
  tenant: string,
  placeholder = "?",
): { sql: string; params: unknown[] } {
  return scope.kind === "ordinary"
    ? { sql: `${tenant} not in (select t.id from tenants t where t.sandbox)`, params: [] }
    : { sql: `${tenant} = ${placeholder}`, params: [scope.tenantId] };
}

/**
 * Which rows the worker's passes hand to the domain, each written once: the passes claim with them
 * and an advance of a test clock asks them for its next due instant (`due-work.ts`). What happens to
 * a row is the domain's (`closeDuePeriods`, `convertTrial`); these only select.
 */
export const DUE = {
  /** Subscriptions `s` with a period to close once `s.current_period_end` has passed. */
  periods: { from: "subscriptions s", where: "s.ended_at is null", at: "s.current_period_end" },
  /** Trials of deployments `d` (subscriptions `s`) to convert once `s.trial_ends_at` has passed. */
  trials: {
    from: "deployments d join subscriptions s on s.deployment_id = d.id",
    where: "d.state = 'trial' and d.billing_action_suspended = false",
    at: "s.trial_ends_at",
  },
} as const;

/** A due subscription claimed by this transaction, with everything billing reads about it. */
export interface ClaimedSubscription {
  readonly id: string;
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly history: BillingHistory;
}

/** A computed invoice on its way to the table, with its id and number. */
export interface IssuedInvoice extends ComputedInvoice {
  readonly id: string;
  readonly number: string;
  /** When it is issued; the pass's `now` when absent. */
  readonly issuedAt?: Date;
  readonly status: InvoiceStatus;
  readonly dueAt: Date;
  readonly paidAt: Date | null;
  readonly subscription: Pick<ClaimedSubscription, "id" | "deploymentId" | "tenantId">;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const list = map.get(key(item));
    if (list) list.push(item);
    else map.set(key(item), [item]);
  }
  return map;
}

/**
 * Claims up to `batchSize` subscriptions with a period ended by `now` (FOR UPDATE SKIP LOCKED:
 * other workers take other rows) and loads, in three set queries, their plan-change logs,
 * attachments and their deployments' events.
 */
export async function claimDueSubscriptions(
  em: EntityManager,
  now: Date,
  batchSize: number,
  scope: PassScope,
): Promise<ClaimedSubscription[]> {
  const sql = sqlOn(em);
  const inScope = scopeCondition(scope, "s.tenant_id");
  // The rows name their plan versions by id only: a batch has a handful of distinct versions, read
  // once below, rather than each row carrying (and the driver parsing) its versions again.
  const claimed = await sql<Row[]>(
    `select ${SUBSCRIPTION_COLUMNS("s")}, s.plan_version_id as v_id, s.pending_plan_version_id as pv_id
       from subscriptions s
      where ${DUE.periods.where} and ${DUE.periods.at} <= ? and ${inScope.sql}
      order by ${DUE.periods.at}, s.id
      limit ?
      for update of s skip locked`,
    [now, ...inScope.params, batchSize],
  );
  if (claimed.length === 0) return [];
  const subscriptionIds = JSON.stringify(claimed.map((row) => row.id));
  const deploymentIds = JSON.stringify(claimed.map((row) => row.deployment_id));
  // One connection runs one query at a time: these go in sequence.
  const changeRows = await sql<Row[]>(
    `select ${PLAN_CHANGE_COLUMNS("c")}, c.from_plan_version_id as f_id, c.to_plan_version_id as t_id
       from subscription_plan_changes c
      where c.subscription_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [subscriptionIds],
  );
  const versions = await planVersionsById(sql, [
    ...claimed.flatMap((row) => [row.v_id, row.pv_id]),
    ...changeRows.flatMap((row) => [row.f_id, row.t_id]),
  ]);
  const subscriptions = claimed.map((row) => subscriptionFromRow(row, versions));
  const changes = changeRows.map((row) => planChangeFromRow(row, versions));
  const attachments = (
    await sql<Row[]>(
      `select ${ADDON_ATTACHMENT_COLUMNS("a")}
         from subscription_addons a
        where a.subscription_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
      [subscriptionIds],
    )
  ).map(addonAttachmentFromRow);
  const events = (
    await sql<Row[]>(
      `select ${DEPLOYMENT_EVENT_COLUMNS("e")}
         from deployment_events e
        where e.deployment_id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and e.occurred_at < ?`,
      [deploymentIds, now],
    )
  ).map(deploymentEventFromRow);
  const changesBySub = groupBy(changes, (c) => c.subscriptionId);
  const attachmentsBySub = groupBy(attachments, (a) => a.subscriptionId);
  const eventsByDeployment = groupBy(events, (e) => e.deploymentId);
  return subscriptions.map((subscription) => ({
    id: subscription.id,
    deploymentId: subscription.deploymentId,
    tenantId: subscription.tenantId,
    history: {
      subscription,
      planChanges: changesBySub.get(subscription.id) ?? [],
      attachments: attachmentsBySub.get(subscription.id) ?? [],
      events: eventsByDeployment.get(subscription.deploymentId) ?? [],
    },
  }));
}

/**
 * The plan versions (with their plans) of these ids, each once, keyed by id: the cache the row
 * functions take (`planVersionFromRow`), so rows that carry only `<prefix>id` resolve from it.
 */
async function planVersionsById(
  sql: ReturnType<typeof sqlOn>,
  ids: readonly unknown[],
): Promise<Map<string, PlanVersion>> {
  const versions = new Map<string, PlanVersion>();
  const wanted = [...new Set(ids.filter((id): id is string => typeof id === "string"))];
  if (wanted.length === 0) return versions;
  const rows = await sql<Row[]>(
    `select ${VERSION_COLUMNS("v", "p", "v_")} from plan_versions v join plans p on p.id = v.plan_id
      where v.id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [JSON.stringify(wanted)],
  );
  for (const row of rows) planVersionFromRow(row, "v_", versions);
  return versions;
}

/** An invoice of the batch with the tenant it is issued to. */
export interface InvoiceToNumber {
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly periodStart: Date;
}

/**
 * Which of these invoices do not exist yet: the batch's subscriptions are locked, so nobody else
 * can issue theirs meanwhile, and only these take numbers (a repair run leaves no gap).
 */
export async function notYetIssued<T extends InvoiceToNumber>(
  em: EntityManager,
  invoices: readonly T[],
): Promise<T[]> {
  if (invoices.length === 0) return [];
  const existing = await sqlOn(em)<{ subscription_id: string; period_start: Date }[]>(
    `select s.subscription_id, s.period_start from statements s
       join jsonb_to_recordset(?::jsonb) as x(subscription_id uuid, period_start timestamptz)
         on s.subscription_id = x.subscription_id and s.period_start = x.period_start`,
    [
      JSON.stringify(
        invoices.map((s) => ({
          subscription_id: s.subscriptionId,
          period_start: s.periodStart.toISOString(),
        })),
      ),
    ],
  );
  const issued = new Set(existing.map((e) => `${e.subscription_id}/${instant(e.period_start).getTime()}`));
  return invoices.filter((s) => !issued.has(`${s.subscriptionId}/${s.periodStart.getTime()}`));
}

/**
 * Per-tenant invoice numbers for these invoices, in order (SPEC §3.5): each tenant's counter row
 * is advanced in this transaction (tenants in id order, so two batches never deadlock on them), so
 * a rolled-back batch rolls its numbers back too and the series has no gaps. Also answers each
 * tenant's payment terms, which date the invoices.
 */
export async function allocateInvoiceNumbers(
  em: EntityManager,
  tenantIds: readonly string[],
): Promise<{ number: string; paymentTermsDays: number }[]> {
  if (tenantIds.length === 0) return [];
  const perTenant = new Map<string, number>();
  for (const id of tenantIds) perTenant.set(id, (perTenant.get(id) ?? 0) + 1);
  const counters = await sqlOn(em)<
    { tenant_id: string; last_serial: string; slug: string; payment_terms_days: number }[]
  >(
    `with up as (
       insert into invoice_number_counters (tenant_id, last_serial)
       select tenant_id, n from jsonb_to_recordset(?::jsonb) as x(tenant_id uuid, n bigint) order by tenant_id
       on conflict (tenant_id) do update set last_serial = invoice_number_counters.last_serial + excluded.last_serial
       returning tenant_id, last_serial
     )
     select up.tenant_id, up.last_serial::text as last_serial, t.slug, t.payment_terms_days
       from up join tenants t on t.id = up.tenant_id`,
    [
      JSON.stringify(
        [...perTenant].sort(([a], [b]) => (a < b ? -1 : 1)).map(([tenant_id, n]) => ({ tenant_id, n })),
      ),
    ],
  );
  const next = new Map(
    counters.map((c) => [
      c.tenant_id,
      {
        serial: BigInt(c.last_serial) - BigInt(perTenant.get(c.tenant_id)!) + 1n,
        slug: c.slug,
        terms: c.payment_terms_days,
      },
    ]),
  );
  return tenantIds.map((id) => {
    const tenant = next.get(id)!;
    const number = invoiceNumber(tenant.slug, tenant.serial);
    tenant.serial += 1n;
    return { number, paymentTermsDays: Number(tenant.terms) };
  });
}

/**
 * Writes the invoices, their lines, their deployments' collection appointments and their
 * `invoice.issued` events, and advances the periods, in one round trip. An invoice that already
 * exists for its (subscription, period) is kept as it was and its lines and event are not written,
 * and the period still advances, so a repair run never bills twice. Each event's `data` is built by
 * PostgreSQL from the rows being written (`invoiceJsonWithLines`: the invoice in the contract's
 * shape, its lines taken from what this query inserts, since it cannot read them back). Returns
 * the ids of the invoices actually inserted.
 */
export async function writeClosedPeriods(
  em: EntityManager,
  invoices: readonly IssuedInvoice[],
  advanced: readonly (NextBillingState & { readonly subscriptionId: string })[],
  now: Date,
): Promise<Set<string>> {
  const input = invoices.map((s, n) => ({
    n,
    id: s.id,
    event_id: newId(),
    number: s.number,
    tenant_id: s.subscription.tenantId,
    deployment_id: s.subscription.deploymentId,
    subscription_id: s.subscription.id,
    period_start: s.periodStart.toISOString(),
    period_end: s.periodEnd.toISOString(),
    currency: s.currency,
    total_cents: s.totalCents,
    issued_at: (s.issuedAt ?? now).toISOString(),
    status: s.status,
    due_at: s.dueAt.toISOString(),
    paid_at: s.paidAt?.toISOString() ?? null,
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
    id: a.subscriptionId,
    period_start: a.currentPeriodStart.toISOString(),
    period_end: a.currentPeriodEnd.toISOString(),
    ended_at: a.endedAt?.toISOString() ?? null,
    plan_version_id: a.planVersionId,
    pending_plan_version_id: a.pendingPlanVersionId,
  }));
  const sql = sqlOn(em);
  const inserted = await sql<{ id: string }[]>(
    `with input as (
       select * from json_to_recordset(?::json) as x(n int, id uuid, event_id uuid, number text, tenant_id uuid, deployment_id uuid,
              subscription_id uuid, period_start timestamptz, period_end timestamptz, currency text, total_cents bigint,
              issued_at timestamptz, status text, due_at timestamptz, paid_at timestamptz, lines json)
     ), st as (
       insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents,
              status, amount_paid_cents, issued_at, due_at, paid_at)
       select id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents,
              status, 0, issued_at, due_at, paid_at
         from input
       on conflict (subscription_id, period_start) do nothing
       returning *
     ), sched as (
       insert into collection_schedule (deployment_id, due_at)
       select st.deployment_id, min(i.issued_at) from st join input i on i.id = st.id
        where st.status = 'open' group by st.deployment_id order by st.deployment_id
       on conflict (deployment_id) do update set due_at = least(collection_schedule.due_at, excluded.due_at)
     ), ln as (
       insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents)
       select gen_random_uuid(), st.id, l.position, l.kind, l.description, l.ref_id, l.unit_price_cents, l.billable_ms, l.period_ms, l.amount_cents
         from st join input i on i.id = st.id
         cross join lateral json_to_recordset(i.lines) as l(position int, kind text, description text, ref_id uuid,
              unit_price_cents bigint, billable_ms bigint, period_ms bigint, amount_cents bigint)
       returning *
     ), line_json as (
       select l.statement_id, array_to_json(array_agg(${LINE_JSON} order by l.position)) as lines
         from ln l group by l.statement_id
     ), ev as (
       insert into events (id, tenant_id, type, occurred_at, data)
       select i.event_id, s.tenant_id, 'invoice.issued', s.issued_at,
              ${invoiceJsonWithLines("coalesce(lj.lines, '[]'::json)")}::jsonb
         from st s join input i on i.id = s.id left join line_json lj on lj.statement_id = s.id
        order by i.n
     ), up as (
       update subscriptions s
          set current_period_start = x.period_start, current_period_end = x.period_end, ended_at = x.ended_at,
              plan_version_id = x.plan_version_id, pending_plan_version_id = x.pending_plan_version_id, updated_at = ?
         from json_to_recordset(?::json) as x(id uuid, period_start timestamptz, period_end timestamptz, ended_at timestamptz,
              plan_version_id uuid, pending_plan_version_id uuid)
        where s.id = x.id
     )
     select id from st`,
    [JSON.stringify(input), now, JSON.stringify(periods)],
  );
  return new Set(inserted.map((r) => r.id));
}

/**
 * Claims up to `batchSize` trial deployments whose subscription's trial has ended by `now`
 * (FOR UPDATE OF both rows, SKIP LOCKED). Those under the operator override are not claimed.
 */
export async function claimEndedTrials(
  em: EntityManager,
  now: Date,
  batchSize: number,
  scope: PassScope,
): Promise<string[]> {
  const inScope = scopeCondition(scope, "d.tenant_id");
  const due = await sqlOn(em)<{ deployment_id: string }[]>(
    `select d.id as deployment_id
       from ${DUE.trials.from}
      where ${DUE.trials.where} and ${DUE.trials.at} <= ? and ${inScope.sql}
      order by ${DUE.trials.at}, d.id
      limit ?
      for update of d, s skip locked`,
    [now, ...inScope.params, batchSize],
  );
  return due.map((d) => d.deployment_id);
}

/** The instant of each deployment's newest event. */
export async function lastEventInstants(
  em: EntityManager,
  deploymentIds: readonly string[],
): Promise<Map<string, Date>> {
  const rows = await sqlOn(em)<{ deployment_id: string; occurred_at: Date }[]>(
    `select deployment_id, max(occurred_at) as occurred_at from deployment_events
        where deployment_id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) group by deployment_id`,
    [JSON.stringify(deploymentIds)],
  );
  return new Map(rows.map((e) => [e.deployment_id, instant(e.occurred_at)]));
}

/** Ended trials left alone because of the operator override. */
export async function countSkippedByOverride(
  em: EntityManager,
  now: Date,
  scope: PassScope,
): Promise<number> {
  const inScope = scopeCondition(scope, "d.tenant_id");
  const rows = await sqlOn(em)<{ n: number }[]>(
    `select count(*)::int as n from deployments d join subscriptions s on s.deployment_id = d.id
      where d.state = 'trial' and d.billing_action_suspended = true and ${DUE.trials.at} <= ? and ${inScope.sql}`,
    [now, ...inScope.params],
  );
  return rows[0]?.n ?? 0;
}
