import {
  currentPeriodInvoice,
  DeploymentEvent,
  Invoice,
  InvoiceLine,
  type Principal,
  tenantToList,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { findVisibleDeployment, loadSubscriptionDocument } from "../deployments/deployments.ts";
import type { UseCaseContext } from "../shared/context.ts";
import type { InvoiceDocument, UpcomingInvoice } from "./documents.ts";

export type { InvoiceDocument, UpcomingInvoice } from "./documents.ts";

import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { afterCursor, decodeCursor, type Page, pageLimit, toPage } from "../shared/pagination.ts";

/** Invoices with their lines, in two queries. */
export async function withLines(em: EntityManager, invoices: Invoice[]): Promise<InvoiceDocument[]> {
  if (invoices.length === 0) return [];
  const lines = await em.find(
    InvoiceLine,
    { invoiceId: { $in: invoices.map((s) => s.id) } },
    { orderBy: { invoiceId: "asc", position: "asc" } },
  );
  const byInvoice = new Map<string, InvoiceLine[]>();
  for (const line of lines) byInvoice.set(line.invoiceId, [...(byInvoice.get(line.invoiceId) ?? []), line]);
  return invoices.map((invoice) => ({ invoice, lines: byInvoice.get(invoice.id) ?? [] }));
}

export interface InvoiceQuery {
  readonly deploymentId?: string;
  readonly tenantId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Invoices in issue order, scoped to the principal's tenant. */
export async function listInvoices(
  ctx: UseCaseContext,
  principal: Principal,
  query: InvoiceQuery,
): Promise<Page<InvoiceDocument>> {
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const tenantId = tenantToList(principal, query.tenantId);
  if (
    (tenantId !== undefined && !isUuid(tenantId)) ||
    (query.deploymentId !== undefined && !isUuid(query.deploymentId))
  ) {
    return { items: [], nextCursor: null };
  }
  const rows = await ctx.em.find(
    Invoice,
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

/** A deployment's invoices, oldest period first. */
export async function listDeploymentInvoices(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  query: { limit?: number; cursor?: string },
): Promise<Page<InvoiceDocument>> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const rows = await ctx.em.find(
    Invoice,
    { deploymentId: deployment.id, ...afterCursor("periodStart", cursor) },
    { orderBy: { periodStart: "asc", id: "asc" }, limit: limit + 1 },
  );
  const page = toPage(rows, limit, (s) => s.periodStart);
  return { items: await withLines(ctx.em, page.items), nextCursor: page.nextCursor };
}

export async function getInvoice(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<InvoiceDocument> {
  const invoice = visible(isUuid(id) ? await ctx.em.findOne(Invoice, { id }) : null, principal, "Invoice");
  return (await withLines(ctx.em, [invoice]))[0]!;
}

/** The current period's invoice as things stand (not stored): the same function the worker uses. */
export async function upcomingInvoice(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
): Promise<UpcomingInvoice> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const document = await loadSubscriptionDocument(ctx.em, deployment.id);
  if (!document) throw notFound("Subscription");
  const { subscription } = document;
  const events = await ctx.em.find(
    DeploymentEvent,
    { deploymentId: deployment.id },
    { orderBy: { sequence: "asc" } },
  );
  const computed = currentPeriodInvoice({
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
