import { canSeeTenant, type Principal, tenantToList } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { poolingOf } from "../orm.ts";
import {
  DEPLOYMENT_DOCUMENT_JSON,
  DEPLOYMENT_DOCUMENT_JSON_FUNCTION,
  deploymentsPage,
} from "../presenters/json-reads.ts";
import type { presentDeployment, presentDeploymentDocument } from "../presenters/presenters.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { JsonText, pageText } from "../shared/json-text.ts";
import { isUuid, notFound } from "../shared/lookup.ts";
import { decodeCursor, encodeCursor, invalidCursor, pageLimit } from "../shared/pagination.ts";
import type { Prepared } from "../shared/prepared.ts";
import { type Sql, withConnection } from "../shared/sql.ts";
import type { DeploymentQuery } from "./deployments.ts";

// The API's deployment reads as JSON text built by PostgreSQL (presenters/json-reads.ts), in the presenters'
// shape byte for byte (json-reads.db.test.ts), passed through to the client untouched.

export type DeploymentDocumentJson = ReturnType<typeof presentDeploymentDocument>;
export type DeploymentJson = ReturnType<typeof presentDeployment>;

interface DocumentRow {
  tenant_id: string;
  body: string;
}

const UNDEFINED_FUNCTION = "42883";

/** Through the function (pooled per transaction), created first if this database lacks it. */
async function documentViaFunction(sql: Sql, id: string): Promise<DocumentRow[]> {
  try {
    return await sql<DocumentRow>(DEPLOYMENT_DOCUMENT_JSON_FUNCTION.call, [id]);
  } catch (error) {
    if ((error as { code?: string }).code !== UNDEFINED_FUNCTION) throw error;
    await sql(DEPLOYMENT_DOCUMENT_JSON_FUNCTION.create);
    return sql<DocumentRow>(DEPLOYMENT_DOCUMENT_JSON_FUNCTION.call, [id]);
  }
}

/** `GET /deployments/{id}`: the document as the contract shows it; NOT_FOUND across tenants. */
export function readDeploymentDocumentJson(
  em: EntityManager,
  principal: Principal,
  id: string,
): Promise<JsonText<DeploymentDocumentJson>> {
  if (!isUuid(id)) return Promise.reject(notFound("Deployment"));
  return withConnection(em, async (sql) => {
    const [row] =
      poolingOf(em) === "transaction"
        ? await documentViaFunction(sql, id)
        : await sql<DocumentRow>(DEPLOYMENT_DOCUMENT_JSON, [id]);
    if (!row || !canSeeTenant(principal, row.tenant_id)) throw notFound("Deployment");
    return new JsonText<DeploymentDocumentJson>(row.body);
  });
}

interface PageRow {
  items: string;
  more: boolean;
  last_at: string | null;
  last_id: string | null;
}

/** One page of a list query (`page` in presenters/json-reads.ts) as `{ items, nextCursor }` text. */
export async function readPage<T>(
  em: EntityManager,
  query: Prepared,
  params: readonly unknown[],
): Promise<JsonText<{ items: T[]; nextCursor: string | null }>> {
  const [row] = await withConnection(em, (sql) => sql<PageRow>(query, params));
  const { items, more, last_at: at, last_id: id } = row!;
  return pageText<T>(items, more && at && id ? encodeCursor({ at: new Date(at), id }) : null);
}

/** A cursor's position as query parameters (its id must be one: it is compared as a uuid). */
export function cursorParams(cursor: string | undefined): [Date, string] | null {
  const position = decodeCursor(cursor);
  if (!position) return null;
  // A cursor this API wrote always names a uuid.
  if (!isUuid(position.id)) throw invalidCursor();
  return [position.at, position.id];
}

const EMPTY_PAGE = '{"items":[],"nextCursor":null}';

/** `GET /deployments`: oldest first, scoped to the principal's tenant (platform admins may filter by tenant). */
export async function listDeploymentsJson(
  ctx: UseCaseContext,
  principal: Principal,
  query: DeploymentQuery,
): Promise<JsonText<{ items: DeploymentJson[]; nextCursor: string | null }>> {
  const limit = pageLimit(query.limit);
  const cursor = cursorParams(query.cursor);
  const tenantId = tenantToList(principal, query.tenantId);
  if (tenantId !== undefined && !isUuid(tenantId)) return new JsonText(EMPTY_PAGE);
  const page = deploymentsPage({
    tenant: tenantId !== undefined,
    state: query.state !== undefined,
    cursor: cursor !== null,
  });
  const params: unknown[] = [limit];
  if (tenantId !== undefined) params.push(tenantId);
  if (query.state !== undefined) params.push(query.state);
  if (cursor) params.push(...cursor);
  return readPage<DeploymentJson>(ctx.sqlEm, page, params);
}
