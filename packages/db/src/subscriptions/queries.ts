// The queries of subscribing, importing only the column lists of the tables they read (`mapping/`),
// so that the bench's bare server runs the very same ones (`@arcadia/db/queries/subscriptions`).
import { ADDON_JSON, VERSION_COLUMNS } from "../mapping/catalog.ts";
import { prepared } from "../shared/prepared.ts";

/** Whether the deployment has a subscription, the plan version asked for, and the add-ons asked for. */
export const SUBSCRIBE_LOOKUP = prepared(
  "arcadia_subscribe_lookup",
  `select exists (select 1 from subscriptions where deployment_id = $1) as already_subscribed,
            (select coalesce(json_agg(json_build_object(${ADDON_JSON})), '[]'::json)
               from addons a where a.code = any($4::text[])) as addons,
            chosen.*
       from (select 1) one
       left join lateral (
         select ${VERSION_COLUMNS("v", "p", "")}
           from plan_versions v join plans p on p.id = v.plan_id
          where p.code = $2 and ($3::int is null or v.version = $3)
          order by v.version desc limit 1
       ) chosen on true`,
);

export const INSERT_SUBSCRIPTION = prepared(
  "arcadia_insert_subscription",
  `with subscription as (
       insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start,
         current_period_end, trial_ends_at, pending_plan_version_id, cancelled_at, ended_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ), plan_change as (
       insert into subscription_plan_changes (id, subscription_id, from_plan_version_id, to_plan_version_id, kind,
         requested_at, effective_at, actor_type, actor_id, actor_role, superseded_at, sequence)
       values ($14, $1, $15, $16, $17, $18, $19, $20, $21, $22, $23, $32)
     )
     insert into subscription_addons (id, subscription_id, addon_code, resource_kind, qty, price_cents, currency,
       attached_at, detached_at)
     select id, $1, addon_code, resource_kind, qty, price_cents, currency, attached_at, detached_at
       from unnest($24::uuid[], $25::text[], $26::text[], $27::numeric[], $28::bigint[], $29::text[],
                   $30::timestamptz[], $31::timestamptz[])
         as a(id, addon_code, resource_kind, qty, price_cents, currency, attached_at, detached_at)`,
);
