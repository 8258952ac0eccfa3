import { type Principal, tenantToList } from "@arcadia/domain";
import { cursorParams, readPage } from "../deployments/deployment-reads.ts";
import { invoicesPage } from "../presenters/json-reads.ts";
import type { presentInvoice } from "../presenters/presenters.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { JsonText } from "../shared/json-text.ts";
import { isUuid } from "../shared/lookup.ts";
import { pageLimit } from "../shared/pagination.ts";
import type { InvoiceQuery } from "./invoices.ts";

export type InvoiceJson = ReturnType<typeof presentInvoice>;

/**
 * `GET /invoices`: in issue order, scoped to the principal's tenant, as JSON text built by
 * PostgreSQL in the presenter's shape (presenters/json-reads.ts), passed through untouched.
 */
export async function listInvoicesJson(
  ctx: UseCaseContext,
  principal: Principal,
  query: InvoiceQuery,
): Promise<JsonText<{ items: InvoiceJson[]; nextCursor: string | null }>> {
  const limit = pageLimit(query.limit);
  const cursor = cursorParams(query.cursor);
  const tenantId = tenantToList(principal, query.tenantId);
  if (
    (tenantId !== undefined && !isUuid(tenantId)) ||
    (query.deploymentId !== undefined && !isUuid(query.deploymentId))
  ) {
    return new JsonText('{"items":[],"nextCursor":null}');
  }
  const page = invoicesPage({
    tenant: tenantId !== undefined,
    deployment: query.deploymentId !== undefined,
    cursor: cursor !== null,
  });
  const params: unknown[] = [limit];
  if (tenantId !== undefined) params.push(tenantId);
  if (query.deploymentId !== undefined) params.push(query.deploymentId);
  if (cursor) params.push(...cursor);
  return readPage<InvoiceJson>(ctx.sqlEm, page, params);
}
