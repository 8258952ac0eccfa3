// The queries of the deployment hot paths (the document, transitions), importing only the column
// lists of the tables they read (`mapping/`), so that the bench's bare server runs the very same
// ones (`@arcadia/db/queries/deployments`) and the benchmark measures the stack around them, not the SQL.
import { VERSION_COLUMNS } from "../mapping/catalog.ts";
import { DEPLOYMENT_COLUMNS } from "../mapping/deployments.ts";
import {
  ADDON_ATTACHMENT_JSON,
  PLAN_CHANGE_COLUMNS,
  SUBSCRIPTION_COLUMNS,
} from "../mapping/subscriptions.ts";
import { prepared } from "../shared/prepared.ts";

/**
 * The whole document in one query and one round trip: the deployment's columns, and the
 * subscription, add-ons, plan changes and events as JSON built in the database. Amounts and
 * quantities travel as text (JSON numbers would round a numeric), instants as ISO strings.
 */
export const DEPLOYMENT_DOCUMENT = prepared(
  "arcadia_deployment_document",
  `
  select ${DEPLOYMENT_COLUMNS("d")},
    (select row_to_json(x) from (
       select ${SUBSCRIPTION_COLUMNS("s")}, ${VERSION_COLUMNS("v", "p", "v_")}, ${VERSION_COLUMNS("pv", "pp", "pv_")}
         from subscriptions s
         join plan_versions v on v.id = s.plan_version_id join plans p on p.id = v.plan_id
         left join plan_versions pv on pv.id = s.pending_plan_version_id left join plans pp on pp.id = pv.plan_id
        where s.deployment_id = d.id) x) as subscription,
    (select coalesce(json_agg(json_build_object(${ADDON_ATTACHMENT_JSON}) order by a.attached_at, a.id), '[]'::json)
       from subscriptions s join subscription_addons a on a.subscription_id = s.id
      where s.deployment_id = d.id) as addons,
    (select coalesce(json_agg(x order by x.sequence), '[]'::json) from (
       select ${PLAN_CHANGE_COLUMNS("c")}, ${VERSION_COLUMNS("f", "fp", "f_")}, ${VERSION_COLUMNS("t", "tp", "t_")}
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
 * PL/pgSQL on the server connection instead of a named query on the client's.
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
