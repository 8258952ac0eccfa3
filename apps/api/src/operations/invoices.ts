import * as C from "@arcadia/contract";
import {
  collectionPreview,
  getInvoice,
  listDeploymentInvoices,
  listInvoicesJson,
  listPayments,
  markInvoiceUncollectible,
  payInvoice,
  presentCollectionPreview,
  presentInvoice,
  presentPage,
  presentPayment,
  presentUpcoming,
  recordManualPayment,
  type UseCaseContext,
  upcomingInvoice,
  voidInvoice,
  withLines,
} from "@arcadia/db";
import type { Invoice } from "@arcadia/domain";
import { collectionDeps } from "./collection-deps.ts";
import { operation } from "./operation.ts";

const withLinesOf = async (ctx: UseCaseContext, invoice: Invoice) => (await withLines(ctx.em, [invoice]))[0]!;

export const listInvoicesOp = operation({
  name: "invoices.list",
  kind: "query",
  method: "get",
  path: "/invoices",
  status: 200,
  summary: "Invoices in issue order, scoped to the caller's tenant",
  access: "any",
  input: C.ZListInvoicesRequest,
  output: C.ZInvoicePage,
  run: ({ ctx, principal }, input) => listInvoicesJson(ctx, principal, input),
});

export const getInvoiceOp = operation({
  name: "invoices.get",
  kind: "query",
  method: "get",
  path: "/invoices/{id}",
  status: 200,
  summary: "An invoice with its lines",
  access: "any",
  input: C.ZGetInvoiceRequest,
  output: C.ZInvoice,
  run: async ({ ctx, principal }, input) => presentInvoice(await getInvoice(ctx, principal, input.id)),
});

export const listDeploymentInvoicesOp = operation({
  name: "invoices.listForDeployment",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/invoices",
  status: 200,
  summary: "A deployment's invoices, oldest period first",
  access: "any",
  input: C.ZListDeploymentInvoicesRequest,
  output: C.ZInvoicePage,
  run: async ({ ctx, principal }, { id, ...query }) =>
    presentPage(await listDeploymentInvoices(ctx, principal, id, query), presentInvoice),
});

export const upcomingInvoiceOp = operation({
  name: "invoices.upcoming",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/invoices/upcoming",
  status: 200,
  summary: "The current period's invoice as things stand (not stored)",
  access: "any",
  input: C.ZUpcomingInvoiceRequest,
  output: C.ZUpcomingInvoice,
  run: async ({ ctx, principal }, input) => presentUpcoming(await upcomingInvoice(ctx, principal, input.id)),
});

export const listPaymentsOp = operation({
  name: "invoices.payments",
  kind: "query",
  method: "get",
  path: "/invoices/{id}/payments",
  status: 200,
  summary: "An invoice's payments and payment attempts, oldest first",
  access: "any",
  input: C.ZListPaymentsRequest,
  output: C.ZPaymentList,
  run: async ({ ctx, principal }, input) =>
    (await listPayments(ctx, principal, input.id)).map(presentPayment),
});

export const recordPaymentOp = operation({
  name: "invoices.recordPayment",
  kind: "mutation",
  method: "post",
  path: "/invoices/{id}/payments",
  status: 201,
  summary: "Record a manual (offline) payment; partial allowed, more than is due is OVERPAYMENT",
  access: "platform_admin",
  input: C.ZRecordPaymentRequest,
  output: C.ZPayment,
  run: async ({ ctx, principal }, { id, ...input }) =>
    presentPayment(await recordManualPayment(ctx, principal, id, input)),
});

export const payInvoiceOp = operation({
  name: "invoices.pay",
  kind: "mutation",
  method: "post",
  path: "/invoices/{id}/pay",
  status: 200,
  summary: "Charge the tenant's payment method now",
  access: "admins",
  input: C.ZPayInvoiceRequest,
  output: C.ZPayment,
  run: async ({ ctx, principal, services }, input) =>
    presentPayment(await payInvoice(ctx, principal, input.id, collectionDeps(services))),
});

export const voidInvoiceOp = operation({
  name: "invoices.void",
  kind: "mutation",
  method: "post",
  path: "/invoices/{id}/void",
  status: 200,
  summary: "Void an open invoice without succeeded payments; its dunning stops",
  access: "platform_admin",
  input: C.ZVoidInvoiceRequest,
  output: C.ZInvoice,
  run: async ({ ctx, principal }, input) =>
    presentInvoice(await withLinesOf(ctx, await voidInvoice(ctx, principal, input.id))),
});

export const markUncollectibleOp = operation({
  name: "invoices.markUncollectible",
  kind: "mutation",
  method: "post",
  path: "/invoices/{id}/mark-uncollectible",
  status: 200,
  summary: "Give up on an open invoice; its dunning stops",
  access: "platform_admin",
  input: C.ZMarkUncollectibleRequest,
  output: C.ZInvoice,
  run: async ({ ctx, principal }, input) =>
    presentInvoice(await withLinesOf(ctx, await markInvoiceUncollectible(ctx, principal, input.id))),
});

export const collectionPreviewOp = operation({
  name: "deployments.collection",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/collection",
  status: 200,
  summary: "What collection will do and when if nothing is paid",
  access: "any",
  input: C.ZCollectionPreviewRequest,
  output: C.ZCollectionPreview,
  run: async ({ ctx, principal }, input) =>
    presentCollectionPreview(await collectionPreview(ctx, principal, input.id)),
});
