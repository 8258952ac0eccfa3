import {
  currentPeriodStatement,
  DeploymentEvent,
  type Principal,
  Statement,
  StatementLine,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { findVisibleDeployment, loadSubscriptionDocument } from "../deployments/deployments.ts";
import type { UseCaseContext } from "../shared/context.ts";
import type { StatementDocument, UpcomingStatement } from "./documents.ts";

export type { StatementDocument, UpcomingStatement } from "./documents.ts";

import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { afterCursor, decodeCursor, type Page, pageLimit, toPage } from "../shared/pagination.ts";

/** Statements with their lines, in two queries. */
export async function withLines(em: EntityManager, statements: Statement[]): Promise<StatementDocument[]> {
  if (statements.length === 0) return [];
  const lines = await em.find(
    StatementLine,
    { statementId: { $in: statements.map((s) => s.id) } },
    { orderBy: { statementId: "asc", position: "asc" } },
  );
  const byStatement = new Map<string, StatementLine[]>();
  for (const line of lines)
    byStatement.set(line.statementId, [...(byStatement.get(line.statementId) ?? []), line]);
  return statements.map((statement) => ({ statement, lines: byStatement.get(statement.id) ?? [] }));
}

export interface StatementQuery {
  readonly deploymentId?: string;
  readonly tenantId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Statements in issue order, scoped to the principal's tenant. */
export async function listStatements(
  ctx: UseCaseContext,
  principal: Principal,
  query: StatementQuery,
): Promise<Page<StatementDocument>> {
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const tenantId = principal.role === "platform_admin" ? query.tenantId : principal.tenantId!;
  if (
    (tenantId !== undefined && !isUuid(tenantId)) ||
    (query.deploymentId !== undefined && !isUuid(query.deploymentId))
  ) {
    return { items: [], nextCursor: null };
  }
  const rows = await ctx.em.find(
    Statement,
    {
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(query.deploymentId !== undefined ? { deploymentId: query.deploymentId } : {}),
      ...afterCursor("issuedAt", cursor),
    },
    { orderBy: { issuedAt: "asc", id: "asc" }, limit: limit + 1 },
  );
  const page = toPage(rows, limit, (s) => s.issuedAt);
  return { items: await withLines(ctx.em, page.items), nextCursor: page.nextCursor };
}

/** A deployment's statements, oldest period first. */
export async function listDeploymentStatements(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  query: { limit?: number; cursor?: string },
): Promise<Page<StatementDocument>> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const rows = await ctx.em.find(
    Statement,
    { deploymentId: deployment.id, ...afterCursor("periodStart", cursor) },
    { orderBy: { periodStart: "asc", id: "asc" }, limit: limit + 1 },
  );
  const page = toPage(rows, limit, (s) => s.periodStart);
  return { items: await withLines(ctx.em, page.items), nextCursor: page.nextCursor };
}

export async function getStatement(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<StatementDocument> {
  const statement = visible(
    isUuid(id) ? await ctx.em.findOne(Statement, { id }) : null,
    principal,
    "Statement",
  );
  return (await withLines(ctx.em, [statement]))[0]!;
}

/** The current period's statement as things stand (not stored): the same function the worker uses. */
export async function upcomingStatement(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
): Promise<UpcomingStatement> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const document = await loadSubscriptionDocument(ctx.em, deployment.id);
  if (!document) throw notFound("Subscription");
  const { subscription } = document;
  const events = await ctx.em.find(
    DeploymentEvent,
    { deploymentId: deployment.id },
    { orderBy: { sequence: "asc" } },
  );
  const computed = currentPeriodStatement({
    subscription,
    planChanges: document.planChanges,
    attachments: document.addons,
    events,
  });
  return {
    ...computed,
    tenantId: subscription.tenantId,
    deploymentId: deployment.id,
    subscriptionId: subscription.id,
  };
}
