import { Migration } from '@mikro-orm/migrations';

// The deployment document as a PL/pgSQL function, for connections pooled per transaction
// (DATABASE_POOLING=transaction): there no query may be prepared by name, and planning this
// query on every request cost more than running it. PL/pgSQL caches the plan of its query per
// server connection, which the pooler keeps across clients. The query was DEPLOYMENT_DOCUMENT
// (deployments/queries.ts) as of this migration. Both went when the API came to read the document
// as JSON built by PostgreSQL: Migration20261201182000 drops the function, and brings this back
// when it is reverted.
export const DEPLOYMENT_DOCUMENT_FUNCTION = `create or replace function arcadia_deployment_document(p_id uuid) returns json
language plpgsql stable as $fn$
begin
  return (select row_to_json(doc) from (
    select d.id, d.tenant_id, d.slug, d.display_name, d.region, d.state, d.llm_mode, d.billing_action_suspended, d.template_code, d.template_version, d.last_event_sequence, d.created_at, d.updated_at,
      (select row_to_json(x) from (
         select s.*, v.id as v_id, v.version as v_version, v.price_cents::text as v_price_cents,
     v.currency as v_currency, v.trial_days as v_trial_days, v.includes as v_includes,
     v.created_at as v_created_at, p.id as v_plan_id, p.code as v_plan_code,
     p.name as v_plan_name, p.created_at as v_plan_created_at, pv.id as pv_id, pv.version as pv_version, pv.price_cents::text as pv_price_cents,
     pv.currency as pv_currency, pv.trial_days as pv_trial_days, pv.includes as pv_includes,
     pv.created_at as pv_created_at, pp.id as pv_plan_id, pp.code as pv_plan_code,
     pp.name as pv_plan_name, pp.created_at as pv_plan_created_at
           from subscriptions s
           join plan_versions v on v.id = s.plan_version_id join plans p on p.id = v.plan_id
           left join plan_versions pv on pv.id = s.pending_plan_version_id left join plans pp on pp.id = pv.plan_id
          where s.deployment_id = d.id) x) as subscription,
      (select coalesce(json_agg(json_build_object(
                'id', a.id, 'subscription_id', a.subscription_id, 'addon_code', a.addon_code,
                'resource_kind', a.resource_kind, 'qty', a.qty::text, 'price_cents', a.price_cents::text,
                'currency', a.currency, 'attached_at', a.attached_at, 'detached_at', a.detached_at)
              order by a.attached_at, a.id), '[]'::json)
         from subscriptions s join subscription_addons a on a.subscription_id = s.id
        where s.deployment_id = d.id) as addons,
      (select coalesce(json_agg(x order by x.sequence), '[]'::json) from (
         select c.*, f.id as f_id, f.version as f_version, f.price_cents::text as f_price_cents,
     f.currency as f_currency, f.trial_days as f_trial_days, f.includes as f_includes,
     f.created_at as f_created_at, fp.id as f_plan_id, fp.code as f_plan_code,
     fp.name as f_plan_name, fp.created_at as f_plan_created_at, t.id as t_id, t.version as t_version, t.price_cents::text as t_price_cents,
     t.currency as t_currency, t.trial_days as t_trial_days, t.includes as t_includes,
     t.created_at as t_created_at, tp.id as t_plan_id, tp.code as t_plan_code,
     tp.name as t_plan_name, tp.created_at as t_plan_created_at
           from subscriptions s join subscription_plan_changes c on c.subscription_id = s.id
           left join plan_versions f on f.id = c.from_plan_version_id left join plans fp on fp.id = f.plan_id
           join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id
          where s.deployment_id = d.id) x) as plan_changes,
      (select coalesce(json_agg(e order by e.sequence), '[]'::json)
         from deployment_events e where e.deployment_id = d.id) as events
    from deployments d
    where d.id = p_id
  ) doc);
end
$fn$;`;

export class Migration20261201130000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(DEPLOYMENT_DOCUMENT_FUNCTION);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists arcadia_deployment_document(uuid);`);
  }

}
