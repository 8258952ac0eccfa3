// One measured rollover in a process of its own (so peak memory belongs to that run alone):
//   tsx src/rollover-run.ts <orm|sql> <subscriptions> <admin postgres url>

import { migrateAndSeed, runRolloverPass } from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import { inFreshDatabase, measure, type Orm } from "./measured-run.ts";

const [mode, countText, adminUrl] = process.argv.slice(2);
const count = Number(countText);
if ((mode !== "orm" && mode !== "sql") || !Number.isInteger(count) || !adminUrl) {
  console.error("usage: rollover-run.ts <orm|sql> <count> <admin url>");
  process.exit(2);
}

await inFreshDatabase(adminUrl, async (orm) => {
  await migrateAndSeed(orm);
  await seedSubscriptions(orm, {
    count,
    createdAt: new Date("2026-10-01T00:00:00Z"),
    addonCodes: ["storage_50gb", "compute_2vcpu"],
  });
  await orm.em.getConnection().execute("vacuum analyze");
  const now = new Date("2026-11-01T00:00:00Z");
  const run = await measure(async () => {
    if (mode === "sql") return setBasedBaseline(orm, now);
    const summary = await runRolloverPass(orm, {
      now,
      batchSize: Number(process.env.BATCH_SIZE ?? 1000),
      ...(process.env.CONCURRENCY ? { concurrency: Number(process.env.CONCURRENCY) } : {}),
    });
    return summary.invoicesIssued;
  });
  const lines = await orm.em.getConnection().execute("select count(*)::int as n from statement_lines");
  process.stdout.write(
    `${JSON.stringify({
      mode,
      subscriptions: count,
      invoices: run.value,
      lines: lines[0]!.n,
      seconds: run.seconds,
      perSecond: Math.round(count / run.seconds),
      peakRssMb: run.peakRssMb,
      peakHeapMb: run.peakHeapMb,
    })}\n`,
  );
});

/**
 * The floor: the same writes as the worker (an invoice per due subscription numbered from its
 * tenant's gap-free counter with the tenant's payment terms, a line per plan and add-on, the
 * deployment's collection appointment, the period advanced, and the outbox's `invoice.issued` with
 * the invoice and its lines as JSON) as set-based queries in one transaction, with full-period
 * amounts and no per-row logic at all.
 */
async function setBasedBaseline(orm: Orm, now: Date): Promise<number> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute(
      `create temporary table due on commit drop as
       select s.id, s.tenant_id, s.deployment_id, s.current_period_start as ps, s.current_period_end as pe,
              v.id as plan_version_id, v.price_cents, v.currency, gen_random_uuid() as statement_id,
              row_number() over (partition by s.tenant_id order by s.id) as serial_in_batch,
              s.price_total
         from (select s.*, (select coalesce(sum(a.price_cents), 0) from subscription_addons a where a.subscription_id = s.id) as price_total
                 from subscriptions s where s.ended_at is null and s.current_period_end <= ? for update of s) s
         join plan_versions v on v.id = s.plan_version_id`,
      [now],
    );
    const [inserted] = await em.execute(
      `with counts as (
         select tenant_id, count(*) as n from due group by tenant_id
       ), counters as (
         insert into invoice_number_counters (tenant_id, last_serial)
         select tenant_id, n from counts order by tenant_id
         on conflict (tenant_id) do update set last_serial = invoice_number_counters.last_serial + excluded.last_serial
         returning tenant_id, last_serial
       ), numbered as (
         select d.*, 'INV-' || upper(t.slug) || '-' || lpad((c.last_serial - k.n + d.serial_in_batch)::text, 6, '0') as number,
                ?::timestamptz + make_interval(days => t.payment_terms_days) as due_at
           from due d join counters c on c.tenant_id = d.tenant_id join counts k on k.tenant_id = d.tenant_id
           join tenants t on t.id = d.tenant_id
       ), st as (
         insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at)
         select n.statement_id, n.number, n.tenant_id, n.deployment_id, n.id, n.ps, n.pe, n.currency,
                n.price_cents + n.price_total, 'open', ?, n.due_at
           from numbered n
         returning *
       ), cs as (
         insert into collection_schedule (deployment_id, due_at)
         select deployment_id, min(issued_at) from st group by deployment_id
         on conflict (deployment_id) do update set due_at = least(collection_schedule.due_at, excluded.due_at)
       ), lines as (
         select d.statement_id, 0::bigint as position, 'plan' as kind, 'plan' as description, d.plan_version_id as ref_id,
                d.price_cents as unit_price_cents, (extract(epoch from d.pe - d.ps) * 1000)::bigint as ms, d.price_cents as amount_cents
           from due d
         union all
         select d.statement_id, row_number() over (partition by d.id order by a.id), 'addon', a.addon_code, a.id, a.price_cents,
                (extract(epoch from d.pe - d.ps) * 1000)::bigint, a.price_cents
           from due d join subscription_addons a on a.subscription_id = d.id
       ), li as (
         insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents)
         select gen_random_uuid(), statement_id, position, kind, description, ref_id, unit_price_cents, ms, ms, amount_cents from lines
       ), up as (
         update subscriptions s set current_period_start = d.pe, current_period_end = d.pe + interval '1 month', updated_at = ?
           from due d where s.id = d.id
       ), line_json as (
         select statement_id, jsonb_agg(jsonb_build_object('kind', kind, 'description', description,
                  'refId', ref_id, 'unitPriceCents', unit_price_cents, 'billableMs', ms,
                  'periodMs', ms, 'amountCents', amount_cents) order by position) as lines
           from lines group by statement_id
       ), out as (
         insert into events (id, tenant_id, type, occurred_at, data)
         select gen_random_uuid(), st.tenant_id, 'invoice.issued', st.issued_at,
                jsonb_build_object('id', st.id, 'number', st.number, 'tenantId', st.tenant_id, 'deploymentId', st.deployment_id,
                  'subscriptionId', st.subscription_id, 'periodStart', st.period_start, 'periodEnd', st.period_end,
                  'currency', st.currency, 'totalCents', st.total_cents, 'status', st.status,
                  'amountPaidCents', st.amount_paid_cents, 'amountDueCents', st.total_cents - st.amount_paid_cents,
                  'issuedAt', st.issued_at, 'dueAt', st.due_at, 'paidAt', st.paid_at, 'voidedAt', st.voided_at,
                  'lines', lj.lines)
           from st join line_json lj on lj.statement_id = st.id
       )
       select count(*)::int as n from st`,
      [now, now, now],
    );
    return inserted!.n as number;
  });
}
