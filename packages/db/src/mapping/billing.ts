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
import { instant as at, instantOrNull as atOrNull, type Row } from "./rows.ts";
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

/** The columns `invoiceFromRow` reads. */
export const INVOICE_COLUMNS = (alias: string) =>
  [
    "id",
    "number",
    "tenant_id",
    "deployment_id",
    "subscription_id",
    "period_start",
    "period_end",
    "currency",
    "total_cents",
    "status",
    "amount_paid_cents",
    "issued_at",
    "due_at",
    "paid_at",
    "voided_at",
    "overdue_at",
  ]
    .map((c) => `${alias}.${c}`)
    .join(", ");

/** One row shape, one mapper: a `statements` row as the domain's Invoice. */
export function invoiceFromRow(row: Row): Invoice {
  return new Invoice({
    id: row.id as string,
    number: row.number as string,
    tenantId: row.tenant_id as string,
    deploymentId: row.deployment_id as string,
    subscriptionId: row.subscription_id as string,
    periodStart: at(row.period_start),
    periodEnd: at(row.period_end),
    currency: row.currency as string,
    totalCents: Number(row.total_cents),
    status: row.status as Invoice["status"],
    amountPaidCents: Number(row.amount_paid_cents),
    issuedAt: at(row.issued_at),
    dueAt: at(row.due_at),
    paidAt: atOrNull(row.paid_at),
    voidedAt: atOrNull(row.voided_at),
    overdueAt: atOrNull(row.overdue_at),
  });
}

/** The columns `lineFromRow` reads. */
export const INVOICE_LINE_COLUMNS =
  "id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents";

/** A `statement_lines` row as the domain's InvoiceLine. */
export function lineFromRow(row: Row): InvoiceLine {
  return new InvoiceLine({
    id: row.id as string,
    invoiceId: row.statement_id as string,
    position: Number(row.position),
    kind: row.kind as InvoiceLine["kind"],
    description: row.description as string,
    refId: row.ref_id as string,
    unitPriceCents: Number(row.unit_price_cents),
    billableMs: Number(row.billable_ms),
    periodMs: Number(row.period_ms),
    amountCents: Number(row.amount_cents),
  });
}
