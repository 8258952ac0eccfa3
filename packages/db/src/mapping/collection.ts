import {
  DEFAULT_DUNNING_POLICY,
  Deployment,
  type DunningPolicy,
  Invoice,
  PAYMENT_METHODS,
  PAYMENT_STATUSES,
  Payment,
  PaymentMethod,
  Tenant,
  TenantDunningPolicy,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { pickedRows, rowMapping } from "./row-mapping.ts";
import type { Row } from "./rows.ts";
import { instant, moneyType } from "./types.ts";

/** The key of a table with at most one row per tenant (or deployment): the owner's id. */
const keyedBy = (entity: () => typeof Tenant | typeof Deployment, fieldName: string) =>
  ({ kind: "1:1", entity, mapToPk: true, fieldName, primary: true, owner: true }) as const;

export const PaymentSchema = new EntitySchema<Payment>({
  class: Payment,
  tableName: "payments",
  properties: {
    id: { type: "uuid", primary: true },
    invoiceId: { kind: "m:1", entity: () => Invoice, mapToPk: true, fieldName: "invoice_id" },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id" },
    amountCents: { type: moneyType() },
    currency: { type: "text" },
    method: { type: "text", enum: true, items: () => PAYMENT_METHODS as unknown as string[] },
    provider: { type: "text", nullable: true },
    providerRef: { type: "text", nullable: true },
    status: { type: "text", enum: true, items: () => PAYMENT_STATUSES as unknown as string[] },
    failureCode: { type: "text", nullable: true },
    attempt: { type: "integer", nullable: true },
    reference: { type: "text", nullable: true },
    paymentMethodId: { type: "uuid", nullable: true },
    retryable: { type: "boolean", nullable: true },
    createdAt: { ...instant },
    settledAt: { ...instant, nullable: true },
  },
  uniques: [{ name: "payments_invoice_attempt_unique", properties: ["invoiceId", "attempt"] }],
  indexes: [{ name: "payments_invoice_created_index", properties: ["invoiceId", "createdAt", "id"] }],
  checks: [
    { name: "payments_amount_check", expression: "amount_cents > 0" },
    {
      name: "payments_attempt_check",
      expression:
        "(method = 'manual' and attempt is null and status = 'succeeded') or (method = 'provider' and attempt is not null and attempt >= 1 and provider is not null)",
    },
  ],
});

export const PaymentMethodSchema = new EntitySchema<PaymentMethod>({
  class: PaymentMethod,
  tableName: "payment_methods",
  properties: {
    tenantId: keyedBy(() => Tenant, "tenant_id"),
    id: { type: "uuid", unique: "payment_methods_id_unique" },
    provider: { type: "text" },
    token: { type: "text" },
    createdAt: { ...instant },
  },
});

export const TenantDunningPolicySchema = new EntitySchema<TenantDunningPolicy>({
  class: TenantDunningPolicy,
  tableName: "dunning_policies",
  properties: {
    tenantId: keyedBy(() => Tenant, "tenant_id"),
    retryAfterDays: { type: "json" },
    pastDueAfterDays: { type: "integer" },
    suspendAfterDays: { type: "integer" },
    cancelAfterDays: { type: "integer" },
    archiveAfterDays: { type: "integer" },
    updatedAt: { ...instant },
  },
});

/** The last invoice number issued in a tenant: updated in the issuing transaction, so numbers have no gaps. */
export class InvoiceNumberCounter {
  tenantId!: string;
  lastSerial!: number;
}

export const InvoiceNumberCounterSchema = new EntitySchema<InvoiceNumberCounter>({
  class: InvoiceNumberCounter,
  tableName: "invoice_number_counters",
  properties: {
    tenantId: keyedBy(() => Tenant, "tenant_id"),
    lastSerial: { type: moneyType() },
  },
  checks: [{ name: "invoice_number_counters_serial_check", expression: "last_serial >= 0" }],
});

/** When collection next needs to look at a deployment (claimed with SKIP LOCKED by the worker). */
export class CollectionSchedule {
  deploymentId!: string;
  dueAt!: Date;
}

export const CollectionScheduleSchema = new EntitySchema<CollectionSchedule>({
  class: CollectionSchedule,
  tableName: "collection_schedule",
  properties: {
    deploymentId: keyedBy(() => Deployment, "deployment_id"),
    dueAt: { ...instant },
  },
  indexes: [{ name: "collection_schedule_due_index", properties: ["dueAt", "deploymentId"] }],
});

/** The sandbox provider's own books: one charge per idempotency key, as an outside provider keeps them. */
export class SandboxCharge {
  idempotencyKey!: string;
  invoiceId!: string;
  amountCents!: number;
  currency!: string;
  token!: string;
  status!: "succeeded" | "failed";
  failureCode!: string | null;
  retryable!: boolean;
  chargeRef!: string;
  createdAt!: Date;
}

export const SandboxChargeSchema = new EntitySchema<SandboxCharge>({
  class: SandboxCharge,
  tableName: "sandbox_charges",
  properties: {
    idempotencyKey: { type: "text", primary: true },
    invoiceId: { type: "uuid" },
    amountCents: { type: moneyType() },
    currency: { type: "text" },
    token: { type: "text" },
    status: { type: "text", enum: true, items: () => ["succeeded", "failed"] },
    failureCode: { type: "text", nullable: true },
    retryable: { type: "boolean" },
    chargeRef: { type: "text" },
    createdAt: { ...instant },
  },
});

const PAYMENT_ROWS = rowMapping(PaymentSchema, Payment);

/** The payments columns `paymentFromRow` reads. */
export const PAYMENT_COLUMNS = PAYMENT_ROWS.columns();

/** A `payments` row as the domain's Payment. */
export const paymentFromRow = PAYMENT_ROWS.fromRow;

const POLICY_ROWS = pickedRows(TenantDunningPolicySchema, [
  "retryAfterDays",
  "pastDueAfterDays",
  "suspendAfterDays",
  "cancelAfterDays",
  "archiveAfterDays",
]);

/** The dunning_policies columns `policyFromRow` reads (the policy's terms, not whose or when). */
export const POLICY_COLUMNS = (alias: string) => POLICY_ROWS.columns(alias);

/** A `dunning_policies` row as the policy it holds; DEFAULT_DUNNING_POLICY without one. */
export function policyFromRow(row: Row | undefined): DunningPolicy {
  return row ? POLICY_ROWS.fromRow(row) : DEFAULT_DUNNING_POLICY;
}
