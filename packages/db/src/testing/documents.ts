import type { Principal } from "@arcadia/domain";
import { type DeploymentDocumentJson, readDeploymentDocumentJson } from "../deployments/deployment-reads.ts";
import type { UseCaseContext } from "../shared/context.ts";

/**
 * The deployment document as `GET /deployments/{id}` answers it: the production read (JSON built
 * by PostgreSQL, NOT_FOUND across tenants), parsed.
 */
export async function deploymentDocument(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<DeploymentDocumentJson> {
  return (await readDeploymentDocumentJson(ctx.sqlEm, principal, id)).parse();
}
