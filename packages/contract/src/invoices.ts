import {
  COLLECTION_ACTIONS,
  INVOICE_STATUSES,
  LINE_KINDS,
  PAYMENT_METHODS,
  PAYMENT_REFERENCE_MAX,
  PAYMENT_STATUSES,
} from "@arcadia/domain";
import { z } from "zod";
import { page, ZCurrency, ZCursor, ZId, ZInstant, ZLimit, ZNonNegativeCents } from "./common.ts";

export const ZInvoiceLine = z
  .object({
    kind: z.enum(LINE_KINDS),
    description: z.string(),
    refId: ZId.describe("the plan version or add-on attachment billed"),
    unitPriceCents: ZNonNegativeCents.describe("monthly price snapshot"),
    billableMs: z.number().int().describe("billable time of this line within the period"),
    periodMs: z.number().int().describe("length of the period"),
    amountCents: ZNonNegativeCents.describe("round_half_even(unitPriceCents × billableMs / periodMs)"),
  })
  .meta({ id: "InvoiceLine" });

export const ZInvoice = z
  .object({
    id: ZId,
    number: z.string(),
    tenantId: ZId,
    deploymentId: ZId,
    subscriptionId: ZId,
    periodStart: ZInstant,
    periodEnd: ZInstant,
    currency: ZCurrency,
    totalCents: ZNonNegativeCents,
    status: z.enum(INVOICE_STATUSES).describe("open while money is due; then paid, void or uncollectible"),
    amountPaidCents: ZNonNegativeCents.describe("the sum of its succeeded payments"),
    amountDueCents: ZNonNegativeCents.describe("totalCents − amountPaidCents while open, else 0"),
    issuedAt: ZInstant,
    dueAt: ZInstant.describe("issuedAt + the tenant's paymentTermsDays"),
    paidAt: ZInstant.nullable(),
    voidedAt: ZInstant.nullable(),
    lines: z.array(ZInvoiceLine),
  })
  .meta({ id: "Invoice" });

export const ZUpcomingInvoice = z
  .object({
    tenantId: ZId,
    deploymentId: ZId,
    subscriptionId: ZId,
    periodStart: ZInstant,
    periodEnd: ZInstant,
    currency: ZCurrency,
    totalCents: ZNonNegativeCents,
    status: z.literal("upcoming"),
    lines: z.array(ZInvoiceLine),
  })
  .meta({ id: "UpcomingInvoice" });

export const ZListInvoicesRequest = z.strictObject({
  deploymentId: ZId.optional(),
  tenantId: ZId.optional(),
  limit: ZLimit,
  cursor: ZCursor,
});
export const ZInvoicePage = page(ZInvoice);
export const ZGetInvoiceRequest = z.strictObject({ id: ZId });
export const ZListDeploymentInvoicesRequest = z.strictObject({ id: ZId, limit: ZLimit, cursor: ZCursor });
export const ZUpcomingInvoiceRequest = z.strictObject({ id: ZId });

export const ZPayment = z
  .object({
    id: ZId,
    invoiceId: ZId,
    amountCents: ZNonNegativeCents,
    currency: ZCurrency,
    method: z.enum(PAYMENT_METHODS),
    provider: z.string().nullable(),
    providerRef: z.string().nullable(),
    status: z.enum(PAYMENT_STATUSES),
    failureCode: z.string().nullable(),
    attempt: z
      .number()
      .int()
      .nullable()
      .describe("automatic attempts: 1 at issue, then one per retry; null for manual"),
    reference: z.string().nullable(),
    createdAt: ZInstant,
    settledAt: ZInstant.nullable(),
  })
  .meta({ id: "Payment" });
export const ZPaymentList = z.array(ZPayment);
export const ZListPaymentsRequest = z.strictObject({ id: ZId });
export const ZRecordPaymentRequest = z.strictObject({
  id: ZId,
  amountCents: z
    .number()
    .int("must be a whole number of minor units")
    .positive("must be positive")
    .max(Number.MAX_SAFE_INTEGER)
    .describe("integer minor units; at most the amount due"),
  reference: z.string().max(PAYMENT_REFERENCE_MAX).nullish(),
});
export const ZPayInvoiceRequest = z.strictObject({ id: ZId });
export const ZVoidInvoiceRequest = z.strictObject({ id: ZId });
export const ZMarkUncollectibleRequest = z.strictObject({ id: ZId });

export const ZCollectionAction = z
  .object({
    action: z.enum(COLLECTION_ACTIONS),
    at: ZInstant,
    invoiceId: ZId.nullable(),
  })
  .meta({ id: "CollectionAction" });
export const ZCollectionPreview = z
  .object({
    deploymentId: ZId,
    amountDueCents: ZNonNegativeCents,
    overdueInvoices: z.array(ZInvoice),
    nextActions: z
      .array(ZCollectionAction)
      .describe("what collection will do if nothing is paid, oldest first"),
  })
  .meta({ id: "CollectionPreview" });
export const ZCollectionPreviewRequest = z.strictObject({ id: ZId });
