// The queries of the deployment write hot paths (transitions), importing only the column lists of
// the tables they read (`mapping/`), so that the bench's bare server runs the very same ones
// (`@arcadia/db/queries/deployments`) and the benchmark measures the stack around them, not the SQL.
// The document is read as JSON built by PostgreSQL (`presenters/json-reads.ts`).
import { DEPLOYMENT_COLUMNS } from "../mapping/deployments.ts";
import { prepared } from "../shared/prepared.ts";

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
