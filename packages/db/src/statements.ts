// The statements of the request hot paths (the deployment document, transitions, subscribing),
// kept free of any import so that the bench's bare server runs the very same ones
// (`@arcadia/db/statements`) and the benchmark measures the stack around them, not the SQL.

/**
 * A statement prepared once per connection and executed by name afterwards: PostgreSQL parses and
 * plans it once instead of on every request (planning the deployment document alone costs more
 * than running it). Its result columns are listed, never `*`, so that a migration adding a column
 * does not change the result type of a statement already prepared on a live connection.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(name: string, text: string): Prepared {
  return { name, text };
}

/** The deployments columns `deploymentFromRow` reads (listed, so prepared statements survive new columns). */
export const DEPLOYMENT_COLUMNS = (alias: string) =>
  [
    "id",
    "tenant_id",
    "slug",
    "display_name",
    "region",
    "state",
    "llm_mode",
    "billing_action_suspended",
    "template_code",
    "template_version",
    "last_event_sequence",
    "created_at",
    "updated_at",
  ]
    .map((column) => `${alias}.${column}`)
    .join(", ");

/** A plan version and its plan as `${prefix}…` columns (read back with `planVersionFromRow`). */
export const VERSION_COLUMNS = (alias: string, plan: string, prefix: string) =>
  `${alias}.id as ${prefix}id, ${alias}.version as ${prefix}version, ${alias}.price_cents::text as ${prefix}price_cents,
   ${alias}.currency as ${prefix}currency, ${alias}.trial_days as ${prefix}trial_days, ${alias}.includes as ${prefix}includes,
   ${alias}.created_at as ${prefix}created_at, ${plan}.id as ${prefix}plan_id, ${plan}.code as ${prefix}plan_code,
   ${plan}.name as ${prefix}plan_name, ${plan}.created_at as ${prefix}plan_created_at`;

/**
 * The whole document in one statement and one round trip: the deployment's columns, and the
 * subscription, add-ons, plan changes and events as JSON built in the database. Amounts and
 * quantities travel as text (JSON numbers would round a numeric), instants as ISO strings.
 */
export const DEPLOYMENT_DOCUMENT = prepared(
  "arcadia_deployment_document",
  `
  select ${DEPLOYMENT_COLUMNS("d")},
    (select row_to_json(x) from (
       select s.*, ${VERSION_COLUMNS("v", "p", "v_")}, ${VERSION_COLUMNS("pv", "pp", "pv_")}
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
       select c.*, ${VERSION_COLUMNS("f", "fp", "f_")}, ${VERSION_COLUMNS("t", "tp", "t_")}
         from subscriptions s join subscription_plan_changes c on c.subscription_id = s.id
         left join plan_versions f on f.id = c.from_plan_version_id left join plans fp on fp.id = f.plan_id
         join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id
        where s.deployment_id = d.id) x) as plan_changes,
    (select coalesce(json_agg(e order by e.sequence), '[]'::json)
       from deployment_events e where e.deployment_id = d.id) as events
  from deployments d
  where d.id = $1`,
);

/**
 * `DEPLOYMENT_DOCUMENT` through the `arcadia_deployment_document` function (a migration), for
 * connections pooled per transaction: one JSON object with the same fields, its plan cached by
 * PL/pgSQL on the server connection instead of a named statement on the client's.
 */
export const DEPLOYMENT_DOCUMENT_FUNCTION = "select arcadia_deployment_document($1::uuid) as doc";

export const LOCK_DEPLOYMENT = prepared(
  "arcadia_lock_deployment",
  `select ${DEPLOYMENT_COLUMNS("d")} from deployments d where d.id = $1 for update`,
);
export const LOCK_SUBSCRIPTION_STATUS = prepared(
  "arcadia_lock_subscription_status",
  "select id, status, cancelled_at from subscriptions where deployment_id = $1 for update",
);
export const UPDATE_STATE = prepared(
  "arcadia_update_deployment_state",
  "update deployments set state = $1, last_event_sequence = $2, updated_at = $3 where id = $4",
);
export const INSERT_EVENT = prepared(
  "arcadia_insert_deployment_event",
  `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at)
   values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
);
export const UPDATE_SUBSCRIPTION_STATUS = prepared(
  "arcadia_update_subscription_status",
  "update subscriptions set status = $1, cancelled_at = $2, updated_at = $3 where id = $4",
);

/** An add-on as JSON (read back with `addonFromJson`). */
export const ADDON_JSON = `'id', a.id, 'code', a.code, 'name', a.name, 'resource_kind', a.resource_kind, 'qty', a.qty::text,
  'price_cents', a.price_cents::text, 'currency', a.currency, 'active', a.active, 'created_at', a.created_at,
  'updated_at', a.updated_at`;

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
