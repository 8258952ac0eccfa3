// One measured collection pass in a process of its own (so peak memory belongs to that run alone):
//   tsx src/collection-run.ts <orm|sql> <invoices> <admin postgres url>
// Every deployment has one overdue invoice and no payment method: the pass moves each one
// active → past_due as `system` (state, event with a reason naming the invoice), marks the invoice
// announced overdue, writes the outbox's deployment.transitioned and invoice.overdue, and moves its
// collection appointment to the next step (suspension, 14 days after the due date).

import { defaultPaymentProviders, migrateAndSeed, runCollectionPass } from "@arcadia/db";
import { seedOpenInvoices, seedSubscriptions } from "@arcadia/db/testing";
import { inFreshDatabase, measure, type Orm } from "./measured-run.ts";

const [mode, countText, adminUrl] = process.argv.slice(2);
const count = Number(countText);
if ((mode !== "orm" && mode !== "sql") || !Number.isInteger(count) || !adminUrl) {
  console.error("usage: collection-run.ts <orm|sql> <count> <admin url>");
  process.exit(2);
}

await inFreshDatabase(adminUrl, async (orm) => {
  await migrateAndSeed(orm);
  const { tenantId } = await seedSubscriptions(orm, { count, createdAt: new Date("2026-11-01T00:00:00Z") });
  const issuedAt = new Date("2026-12-01T00:00:00Z");
  await seedOpenInvoices(orm, { tenantId, issuedAt });
  await orm.em.getConnection().execute("vacuum analyze");
  const now = new Date("2026-12-09T00:00:00Z"); // one day overdue
  const run = await measure(async () => {
    if (mode === "sql") return setBasedFloor(orm, now);
    const summary = await runCollectionPass(orm, {
      now,
      providers: defaultPaymentProviders(orm),
      batchSize: Number(process.env.BATCH_SIZE ?? 1000),
      ...(process.env.CONCURRENCY ? { concurrency: Number(process.env.CONCURRENCY) } : {}),
    });
    return summary.transitions.past_due;
  });
  const [check] = await orm.em
    .getConnection()
    .execute(
      "select count(*) filter (where state = 'past_due')::int as past_due, (select count(*)::int from deployment_events where to_state = 'past_due') as events, (select count(*)::int from events) as outbox from deployments",
    );
  process.stdout.write(
    `${JSON.stringify({
      mode,
      invoices: count,
      transitions: run.value,
      pastDue: check!.past_due,
      events: check!.events,
      outbox: check!.outbox,
      seconds: run.seconds,
      perSecond: Math.round(count / run.seconds),
      peakRssMb: run.peakRssMb,
      peakHeapMb: run.peakHeapMb,
    })}\n`,
  );
});

/**
 * The floor: the same state changes (deployment state and sequence, one lifecycle event each with a
 * reason naming the invoice, the appointment moved to the suspension step, the invoice marked
 * announced overdue, and the outbox's `deployment.transitioned` and `invoice.overdue` with the
 * deployment and the invoice with its lines as JSON) as one set-based query in one transaction,
 * with the rule hard-coded and no per-row logic at all.
 */
async function setBasedFloor(orm: Orm, now: Date): Promise<number> {
  return orm.em.fork().transactional(async (em) => {
    const [row] = await em.execute(
      `with due as (
         select d.*, s.id as invoice_id, s.number, s.due_at as invoice_due_at
           from collection_schedule c join deployments d on d.id = c.deployment_id
           join lateral (select id, number, due_at from statements s where s.deployment_id = d.id and s.status = 'open'
                          order by due_at limit 1) s on true
          where c.due_at <= ? and d.state = 'active' and d.billing_action_suspended = false
          for update of c, d
       ), up as (
         update deployments d set state = 'past_due', last_event_sequence = due.last_event_sequence + 1, updated_at = ?
           from due where d.id = due.id
       ), ev as (
         insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at)
         select gen_random_uuid(), due.id, due.last_event_sequence + 1, 'active', 'past_due', 'system', 'billing-collection', null,
                'invoice ' || due.number || ' is overdue', ?
           from due
       ), sc as (
         update collection_schedule c set due_at = due.invoice_due_at + interval '14 days' from due where c.deployment_id = due.id
       ), od as (
         update statements s set overdue_at = ?::timestamptz from due where s.id = due.invoice_id and s.overdue_at is null returning s.*
       ), out as (
         insert into events (id, tenant_id, type, occurred_at, data)
         select gen_random_uuid(), due.tenant_id, 'deployment.transitioned', ?::timestamptz,
                jsonb_build_object('id', due.id, 'tenantId', due.tenant_id, 'slug', due.slug, 'displayName', due.display_name,
                  'region', due.region, 'state', 'past_due', 'llmMode', due.llm_mode,
                  'billingActionSuspended', due.billing_action_suspended, 'templateCode', due.template_code,
                  'templateVersion', due.template_version, 'createdAt', due.created_at, 'updatedAt', ?::timestamptz)
           from due
         union all
         select gen_random_uuid(), od.tenant_id, 'invoice.overdue', ?::timestamptz,
                jsonb_build_object('id', od.id, 'number', od.number, 'tenantId', od.tenant_id, 'deploymentId', od.deployment_id,
                  'subscriptionId', od.subscription_id, 'periodStart', od.period_start, 'periodEnd', od.period_end,
                  'currency', od.currency, 'totalCents', od.total_cents, 'status', od.status,
                  'amountPaidCents', od.amount_paid_cents, 'amountDueCents', od.total_cents - od.amount_paid_cents,
                  'issuedAt', od.issued_at, 'dueAt', od.due_at, 'paidAt', od.paid_at, 'voidedAt', od.voided_at,
                  'lines', coalesce((select jsonb_agg(jsonb_build_object('kind', l.kind, 'description', l.description,
                      'refId', l.ref_id, 'unitPriceCents', l.unit_price_cents, 'billableMs', l.billable_ms,
                      'periodMs', l.period_ms, 'amountCents', l.amount_cents) order by l.position)
                    from statement_lines l where l.statement_id = od.id), '[]'::jsonb))
           from od
       )
       select count(*)::int as n from due`,
      [now, now, now, now, now, now, now],
    );
    return row!.n as number;
  });
}
