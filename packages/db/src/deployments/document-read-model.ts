import type { Deployment, PlanVersion, Principal } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { deploymentEventFromRow, deploymentFromRow } from "../mapping/deployments.ts";
import { addonAttachmentFromRow, planChangeFromRow, subscriptionFromRow } from "../mapping/subscriptions.ts";
import { poolingOf } from "../orm.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { type Row, withConnection } from "../shared/sql.ts";
import type { DeploymentDocument } from "./document.ts";
import { DEPLOYMENT_DOCUMENT, DEPLOYMENT_DOCUMENT_FUNCTION } from "./queries.ts";

/**
 * The deployment document (deployment, subscription with plan versions, add-ons and plan history,
 * events) read in one prepared query (`DEPLOYMENT_DOCUMENT`) and mapped straight onto the
 * domain classes by each table's row function (`mapping/<area>.ts`, beside its EntitySchema). It is the hottest read of the API: loading entities cost about three times as
 * much per request (identity map, eager-join planning, hydration), and one query per table cost a
 * round trip each. The result is the same as loading the entities —
 * `document-read-model.db.test.ts` compares them.
 */

export function readDeploymentDocument(
  em: EntityManager,
  principal: Principal,
  id: string,
): Promise<DeploymentDocument> {
  if (!isUuid(id)) return Promise.reject(notFound("Deployment"));
  return withConnection(em, async (sql) => {
    // Pooled per transaction, nothing is prepared by name: the function's plan is cached instead.
    const [row] =
      poolingOf(em) === "transaction"
        ? (await sql<{ doc: Row | null }>(DEPLOYMENT_DOCUMENT_FUNCTION, [id])).flatMap((r) =>
            r.doc ? [r.doc] : [],
          )
        : await sql(DEPLOYMENT_DOCUMENT, [id]);
    const deployment = visible(row ? deploymentFromRow(row) : null, principal, "Deployment");
    return documentFromRow(row!, deployment);
  });
}

function documentFromRow(d: Row, deployment: Deployment): DeploymentDocument {
  const versions = new Map<string, PlanVersion>();
  const events = (d.events as Row[]).map(deploymentEventFromRow);
  const s = d.subscription as Row | null;
  if (!s) return { deployment, subscription: null, events };
  return {
    deployment,
    subscription: {
      subscription: subscriptionFromRow(s, versions),
      addons: (d.addons as Row[]).map(addonAttachmentFromRow),
      planChanges: (d.plan_changes as Row[]).map((c) => planChangeFromRow(c, versions)),
    },
    events,
  };
}
