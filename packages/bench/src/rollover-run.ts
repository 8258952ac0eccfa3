// One measured rollover in a process of its own (so peak memory belongs to that run alone):
//   tsx src/rollover-run.ts <orm|sql> <subscriptions> <admin postgres url>

import { randomBytes } from "node:crypto";
import { connect, migrateAndSeed, runRolloverPass } from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import pg from "pg";

const [mode, countText, adminUrl] = process.argv.slice(2);
const count = Number(countText);
if ((mode !== "orm" && mode !== "sql") || !Number.isInteger(count) || !adminUrl) {
  console.error("usage: rollover-run.ts <orm|sql> <count> <admin url>");
  process.exit(2);
}

const name = `arcadia_bench_${randomBytes(5).toString("hex")}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database "${name}"`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const orm = await connect({ url: url.toString(), poolSize: 4 });
try {
  await migrateAndSeed(orm);
  await seedSubscriptions(orm, {
    count,
    createdAt: new Date("2026-10-01T00:00:00Z"),
    addonCodes: ["storage_50gb", "compute_2vcpu"],
  });
  await orm.em.getConnection().execute("vacuum analyze");
  const now = new Date("2026-11-01T00:00:00Z");
  // Seeding 100k rows leaves garbage behind; collect it so the peak below is the rollover's own.
  (globalThis as { gc?: () => void }).gc?.();

  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 10);
  const started = performance.now();
  let invoices = 0;
  if (mode === "orm") {
    const summary = await runRolloverPass(orm, {
      now,
      batchSize: Number(process.env.BATCH_SIZE ?? 1000),
      ...(process.env.CONCURRENCY ? { concurrency: Number(process.env.CONCURRENCY) } : {}),
    });
    invoices = summary.invoicesIssued;
  } else {
    invoices = await setBasedBaseline(orm, now);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const lines = await orm.em.getConnection().execute("select count(*)::int as n from statement_lines");
  process.stdout.write(
    `${JSON.stringify({
      mode,
      subscriptions: count,
      invoices,
      lines: lines[0]!.n,
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: Math.round(count / seconds),
      peakRssMb: Math.round(peakRss / 1048576),
      peakHeapMb: Math.round(peakHeap / 1048576),
    })}\n`,
  );
} finally {
  await orm.close(true);
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
}

/**
 * The floor: the same writes (an invoice per due subscription, a line per plan and add-on, the
 * period advanced) as three set-based queries in one transaction, with full-period amounts and
 * no per-row logic at all.
 */
async function setBasedBaseline(orm: Awaited<ReturnType<typeof connect>>, now: Date): Promise<number> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute(
      `create temporary table due on commit drop as
       select s.id, s.tenant_id, s.deployment_id, s.current_period_start as ps, s.current_period_end as pe,
              v.id as plan_version_id, v.price_cents, v.currency, gen_random_uuid() as statement_id,
              nextval('statement_number_seq') as serial
         from subscriptions s join plan_versions v on v.id = s.plan_version_id
        where s.ended_at is null and s.current_period_end <= ?
        for update of s`,
      [now],
    );
    const [inserted] = await em.execute(
      `with st as (
         insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at)
         select d.statement_id, 'B-' || d.serial, d.tenant_id, d.deployment_id, d.id, d.ps, d.pe, d.currency,
                d.price_cents + coalesce((select sum(a.price_cents) from subscription_addons a where a.subscription_id = d.id), 0), 'open', ?,
                ?::timestamptz + interval '7 days'
           from due d
         returning id
       ), pl as (
         insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents)
         select gen_random_uuid(), d.statement_id, 0, 'plan', 'plan', d.plan_version_id, d.price_cents,
                (extract(epoch from d.pe - d.ps) * 1000)::bigint, (extract(epoch from d.pe - d.ps) * 1000)::bigint, d.price_cents
           from due d
       ), al as (
         insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents)
         select gen_random_uuid(), d.statement_id, row_number() over (partition by d.id order by a.id), 'addon', a.addon_code, a.id, a.price_cents,
                (extract(epoch from d.pe - d.ps) * 1000)::bigint, (extract(epoch from d.pe - d.ps) * 1000)::bigint, a.price_cents
           from due d join subscription_addons a on a.subscription_id = d.id
       ), up as (
         update subscriptions s set current_period_start = d.pe, current_period_end = d.pe + interval '1 month', updated_at = ?
           from due d where s.id = d.id
       )
       select count(*)::int as n from st`,
      [now, now, now],
    );
    return inserted!.n as number;
  });
}
