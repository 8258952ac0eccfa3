import { LINE_KINDS, STATEMENT_STATUSES } from "@arcadia/domain";
import { z } from "zod";
import { page, ZCurrency, ZCursor, ZId, ZInstant, ZLimit, ZNonNegativeCents } from "./common.ts";

export const ZStatementLine = z
  .object({
    kind: z.enum(LINE_KINDS),
    description: z.string(),
    refId: ZId.describe("the plan version or add-on attachment billed"),
    unitPriceCents: ZNonNegativeCents.describe("monthly price snapshot"),
    billableMs: z.number().int().describe("billable time of this line within the period"),
    periodMs: z.number().int().describe("length of the period"),
    amountCents: ZNonNegativeCents.describe("round_half_even(unitPriceCents × billableMs / periodMs)"),
  })
  .meta({ id: "StatementLine" });

export const ZStatement = z
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
    status: z.enum(STATEMENT_STATUSES),
    issuedAt: ZInstant,
    lines: z.array(ZStatementLine),
  })
  .meta({ id: "Statement" });

export const ZUpcomingStatement = z
  .object({
    tenantId: ZId,
    deploymentId: ZId,
    subscriptionId: ZId,
    periodStart: ZInstant,
    periodEnd: ZInstant,
    currency: ZCurrency,
    totalCents: ZNonNegativeCents,
    status: z.literal("upcoming"),
    lines: z.array(ZStatementLine),
  })
  .meta({ id: "UpcomingStatement" });

export const ZListInvoicesRequest = z.strictObject({
  deploymentId: ZId.optional(),
  tenantId: ZId.optional(),
  limit: ZLimit,
  cursor: ZCursor,
});
export const ZInvoicePage = page(ZStatement);
export const ZGetInvoiceRequest = z.strictObject({ id: ZId });
export const ZListDeploymentInvoicesRequest = z.strictObject({ id: ZId, limit: ZLimit, cursor: ZCursor });
export const ZUpcomingInvoiceRequest = z.strictObject({ id: ZId });
