import {
  Deployment,
  INVOICE_STATUSES,
  Invoice,
  InvoiceLine,
  LINE_KINDS,
  Subscription,
  Tenant,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { rowMapping } from "./row-mapping.ts";
import { instant, moneyType } from "./types.ts";

export const InvoiceSchema = new EntitySchema<Invoice>({
  class: Invoice,
  tableName: "statements",
  properties: {
    id: { type: "uuid", primary: true },
    number: { type: "text", unique: "statements_number_unique" },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id" },
    deploymentId: { kind: "m:1", entity: () => Deployment, mapToPk: true, fieldName: "deployment_id" },
    subscriptionId: { kind: "m:1", entity: () => Subscription, mapToPk: true, fieldName: "subscription_id" },
    periodStart: { ...instant },
    periodEnd: { ...instant },
    currency: { type: "text" },
    totalCents: { type: moneyType() },
    status: { type: "text", enum: true, items: () => INVOICE_STATUSES as unknown as string[] },
    amountPaidCents: { type: moneyType(), default: 0 },
    issuedAt: { ...instant },
    dueAt: { ...instant },
    paidAt: { ...instant, nullable: true },
    voidedAt: { ...instant, nullable: true },
    overdueAt: { ...instant, nullable: true },
  },
  uniques: [{ name: "statements_subscription_period_unique", properties: ["subscriptionId", "periodStart"] }],
  indexes: [
    { name: "statements_deployment_period_index", properties: ["deploymentId", "periodStart", "id"] },
    { name: "statements_tenant_issued_index", properties: ["tenantId", "issuedAt", "id"] },
  ],
  checks: [
    { name: "statements_total_check", expression: "total_cents >= 0" },
    { name: "statements_period_check", expression: "period_end > period_start" },
    {
      name: "statements_paid_check",
      expression: "amount_paid_cents >= 0 and amount_paid_cents <= total_cents",
    },
  ],
});

export const InvoiceLineSchema = new EntitySchema<InvoiceLine>({
  class: InvoiceLine,
  tableName: "statement_lines",
  properties: {
    id: { type: "uuid", primary: true },
    invoiceId: { kind: "m:1", entity: () => Invoice, mapToPk: true, fieldName: "statement_id" },
    position: { type: "integer" },
    kind: { type: "text", enum: true, items: () => LINE_KINDS as unknown as string[] },
    description: { type: "text" },
    refId: { type: "uuid" },
    unitPriceCents: { type: moneyType() },
    billableMs: { type: moneyType() },
    periodMs: { type: moneyType() },
    amountCents: { type: moneyType() },
  },
  uniques: [{ name: "statement_lines_statement_position_unique", properties: ["invoiceId", "position"] }],
  checks: [
    { name: "statement_lines_amount_check", expression: "amount_cents >= 0" },
    { name: "statement_lines_billable_check", expression: "billable_ms > 0 and billable_ms <= period_ms" },
  ],
});

const INVOICE_ROWS = rowMapping(InvoiceSchema, Invoice);

/** The statements columns `invoiceFromRow` reads. */
export const INVOICE_COLUMNS = (alias: string) => INVOICE_ROWS.columns(alias);

/** One row shape, one mapper: a `statements` row as the domain's Invoice. */
export const invoiceFromRow = INVOICE_ROWS.fromRow;

const INVOICE_LINE_ROWS = rowMapping(InvoiceLineSchema, InvoiceLine);

/** The statement_lines columns `lineFromRow` reads. */
export const INVOICE_LINE_COLUMNS = INVOICE_LINE_ROWS.columns();

/** A `statement_lines` row as the domain's InvoiceLine. */
export const lineFromRow = INVOICE_LINE_ROWS.fromRow;
