import type { Orm } from "../orm.ts";

export interface BulkSeed {
  /** How many deployments, each with one subscription. */
  readonly count: number;
  /** When deployments and subscriptions were created (their first period is that month). */
  readonly createdAt: Date;
  readonly planCode?: string;
  /** Add-on codes attached to every subscription at creation. */
  readonly addonCodes?: readonly string[];
}

/**
 * Writes many active deployments with subscriptions set-wise (for worker drills and benchmarks):
 * the rows the use cases would write, in one query.
 */
export async function seedSubscriptions(orm: Orm, seed: BulkSeed): Promise<{ tenantId: string }> {
  const conn = orm.em.getConnection();
  const at = seed.createdAt;
  const created = at.toISOString();
  const periodStart = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)).toISOString();
  const periodEnd = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)).toISOString();
  const slug = `bulk-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const [tenant] = await conn.execute(
    "insert into tenants (id, slug, name, created_at) values (gen_random_uuid(), ?, ?, ?) returning id",
    [slug, slug, created],
  );
  const tenantId = tenant!.id as string;
  const [version] = await conn.execute(
    `select v.id from plan_versions v join plans p on p.id = v.plan_id where p.code = ? order by v.version desc limit 1`,
    [seed.planCode ?? "studio"],
  );
  await conn.execute(
    `with d as (
       insert into deployments (id, tenant_id, slug, display_name, region, state, llm_mode, billing_action_suspended, last_event_sequence, created_at, updated_at)
       select gen_random_uuid(), ?, 'bulk-' || g, 'Bulk ' || g, 'au-syd', 'active', 'shared', false, 1, ?, ? from generate_series(1, ?) g
       returning id
     ), e as (
       insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at)
       select gen_random_uuid(), d.id, 1, null, 'active', 'system', 'seed', null, null, ? from d
     ), s as (
       insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start, current_period_end, created_at, updated_at)
       select gen_random_uuid(), d.id, ?, ?, 'active', ?, ?, ?, ? from d
       returning id
     ), c as (
       insert into subscription_plan_changes (id, subscription_id, from_plan_version_id, to_plan_version_id, kind, requested_at, effective_at, actor_type, actor_id, actor_role, sequence)
       select gen_random_uuid(), s.id, null, ?, 'initial', ?, ?, 'system', 'seed', null, 1 from s
     )
     insert into subscription_addons (id, subscription_id, addon_code, resource_kind, qty, price_cents, currency, attached_at)
     select gen_random_uuid(), s.id, a.code, a.resource_kind, a.qty, a.price_cents, a.currency, ?
       from s cross join addons a
      where a.code in (select value from jsonb_array_elements_text(?::jsonb))`,
    [
      tenantId,
      created,
      created,
      seed.count,
      created,
      tenantId,
      version!.id,
      periodStart,
      periodEnd,
      created,
      created,
      version!.id,
      created,
      created,
      created,
      JSON.stringify(seed.addonCodes ?? []),
    ],
  );
  return { tenantId };
}

/**
 * One open invoice per subscription of the tenant, issued at `issuedAt` and due 7 days later, with
 * the tenant's number counter and collection appointments at the due instant — what rollover and
 * collection leave behind, in one query (for benchmarks and drills).
 */
export async function seedOpenInvoices(
  orm: Orm,
  input: { tenantId: string; issuedAt: Date; totalCents?: number },
): Promise<number> {
  const conn = orm.em.getConnection();
  const issued = input.issuedAt.toISOString();
  const due = new Date(input.issuedAt.getTime() + 7 * 86_400_000).toISOString();
  const [row] = await conn.execute(
    `with st as (
       insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents,
              status, amount_paid_cents, issued_at, due_at)
       select gen_random_uuid(), 'INV-' || upper(t.slug) || '-' || lpad((row_number() over (order by s.id))::text, 6, '0'),
              s.tenant_id, s.deployment_id, s.id, s.current_period_start, s.current_period_end, 'AUD', ?, 'open', 0, ?, ?
         from subscriptions s join tenants t on t.id = s.tenant_id where s.tenant_id = ?
       returning deployment_id
     ), counter as (
       insert into invoice_number_counters (tenant_id, last_serial) select ?, count(*) from st
     ), sched as (
       insert into collection_schedule (deployment_id, due_at) select deployment_id, ? from st
     )
     select count(*)::int as n from st`,
    [input.totalCents ?? 4900, issued, due, input.tenantId, input.tenantId, due],
  );
  return row!.n as number;
}
