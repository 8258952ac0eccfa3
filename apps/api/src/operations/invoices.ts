import * as C from "@arcadia/contract";
import { getStatement, listDeploymentStatements, listStatements, upcomingStatement } from "@arcadia/db";
import { presentPage, presentStatement, presentUpcoming } from "../presenters/presenters.ts";
import { operation } from "./operation.ts";

export const listInvoicesOp = operation({
  name: "invoices.list",
  kind: "query",
  method: "get",
  path: "/invoices",
  status: 200,
  summary: "Statements in issue order, scoped to the caller's tenant",
  access: "any",
  input: C.ZListInvoicesRequest,
  output: C.ZInvoicePage,
  run: async ({ ctx, principal }, input) =>
    presentPage(await listStatements(ctx, principal, input), presentStatement),
});

export const getInvoiceOp = operation({
  name: "invoices.get",
  kind: "query",
  method: "get",
  path: "/invoices/{id}",
  status: 200,
  summary: "A statement with its lines",
  access: "any",
  input: C.ZGetInvoiceRequest,
  output: C.ZStatement,
  run: async ({ ctx, principal }, input) => presentStatement(await getStatement(ctx, principal, input.id)),
});

export const listDeploymentInvoicesOp = operation({
  name: "invoices.listForDeployment",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/invoices",
  status: 200,
  summary: "A deployment's statements, oldest period first",
  access: "any",
  input: C.ZListDeploymentInvoicesRequest,
  output: C.ZInvoicePage,
  run: async ({ ctx, principal }, { id, ...query }) =>
    presentPage(await listDeploymentStatements(ctx, principal, id, query), presentStatement),
});

export const upcomingInvoiceOp = operation({
  name: "invoices.upcoming",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/invoices/upcoming",
  status: 200,
  summary: "The current period's statement as things stand (not stored)",
  access: "any",
  input: C.ZUpcomingInvoiceRequest,
  output: C.ZUpcomingStatement,
  run: async ({ ctx, principal }, input) =>
    presentUpcoming(await upcomingStatement(ctx, principal, input.id)),
});
