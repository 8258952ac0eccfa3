import {
  isTenantName,
  MAX_CLOCK_ADVANCE_MONTHS,
  MAX_DUNNING_DAYS,
  MAX_PAYMENT_TERMS_DAYS,
  MAX_RETRIES,
  ROLES,
  TENANT_NAME_MAX,
  TENANT_NAME_RULE,
  TENANT_SLUG_PATTERN,
  TENANT_SLUG_RULE,
} from "@arcadia/domain";
import { z } from "zod";
import { characters, ZId, ZInstant } from "./common.ts";

export const ZRole = z.enum(ROLES);

export const ZTenant = z
  .object({
    id: ZId,
    slug: z.string(),
    name: z.string(),
    sandbox: z
      .boolean()
      .describe("a sandbox's data lives on its test clock; it never becomes an ordinary tenant"),
    clock: z
      .object({ frozenAt: ZInstant.describe("the sandbox's now") })
      .nullable()
      .describe("the test clock of a sandbox; null for an ordinary tenant"),
    paymentTermsDays: z.number().int().describe("days from an invoice's issue to its due date"),
    createdAt: ZInstant,
  })
  .meta({ id: "Tenant" });

export const ZCreateTenantRequest = z.strictObject({
  slug: z.string().regex(TENANT_SLUG_PATTERN, TENANT_SLUG_RULE),
  name: characters({ min: 1, max: TENANT_NAME_MAX }, isTenantName, TENANT_NAME_RULE),
  testClock: z
    .strictObject({ frozenAt: ZInstant.describe("where the clock starts") })
    .optional()
    .describe("makes the tenant a sandbox whose time is this clock, moved only by advancing it"),
});
export const ZTestClock = z
  .object({ tenantId: ZId, frozenAt: ZInstant.describe("the sandbox's now") })
  .meta({ id: "TestClock" });
export const ZGetTestClockRequest = z.strictObject({ id: ZId });
export const ZAdvanceTestClockRequest = z.strictObject({
  id: ZId,
  to: ZInstant.describe(
    `the instant to move the clock to: not before it, at most ${MAX_CLOCK_ADVANCE_MONTHS} months after it`,
  ),
});
const ZDueWorkCounts = {
  invoicesIssued: z.number().int().min(0),
  transitionsMade: z.number().int().min(0).describe("lifecycle transitions made as the system"),
};
export const ZClockAdvance = z
  .object({
    tenantId: ZId,
    from: ZInstant,
    to: ZInstant,
    clock: ZTestClock,
    instantsVisited: z.number().int().min(0),
    instants: z
      .array(z.object({ at: ZInstant, ...ZDueWorkCounts }))
      .describe("every instant at which something was due, oldest first, with what ran there"),
    ...ZDueWorkCounts,
  })
  .meta({ id: "ClockAdvance" });

export const ZListTenantsRequest = z.strictObject({});
export const ZTenantList = z.array(ZTenant);

export const ZToken = z
  .object({
    id: ZId,
    role: ZRole,
    tenantId: ZId.nullable(),
    name: z.string(),
    createdAt: ZInstant,
    revokedAt: ZInstant.nullable(),
  })
  .meta({ id: "Token" });

export const ZCreateTokenRequest = z.strictObject({
  role: ZRole,
  tenantId: ZId.nullish(),
  name: z.string().max(200),
});
export const ZCreatedToken = ZToken.extend({
  token: z.string().describe("the secret; shown only once"),
}).meta({
  id: "CreatedToken",
});
export const ZRevokeTokenRequest = z.strictObject({ id: ZId });

export const ZGetTenantRequest = z.strictObject({ id: ZId });
export const ZUpdateTenantRequest = z.strictObject({
  id: ZId,
  name: z.string().max(200).optional(),
  paymentTermsDays: z.number().int().min(0).max(MAX_PAYMENT_TERMS_DAYS).optional(),
});

export const ZSetPaymentMethodRequest = z.strictObject({
  id: ZId,
  provider: z.string().min(1).max(50),
  token: z.string().min(1).max(200),
});
export const ZRemovePaymentMethodRequest = z.strictObject({ id: ZId });
export const ZPaymentMethod = z
  .object({
    tenantId: ZId,
    provider: z.string(),
    tokenLast4: z.string().describe("the token is never shown back whole"),
    createdAt: ZInstant,
  })
  .meta({ id: "PaymentMethod" });

const ZDays = z.number().int().min(0).max(MAX_DUNNING_DAYS);
export const ZDunningPolicy = z
  .object({
    retryAfterDays: z.array(ZDays).max(MAX_RETRIES).describe("charge retries, days after dueAt, increasing"),
    pastDueAfterDays: ZDays,
    suspendAfterDays: ZDays,
    cancelAfterDays: ZDays,
    archiveAfterDays: ZDays.describe("counted from cancellation"),
  })
  .meta({ id: "DunningPolicy" });
export const ZGetDunningPolicyRequest = z.strictObject({ id: ZId });
export const ZSetDunningPolicyRequest = z.strictObject({
  id: ZId,
  retryAfterDays: z.array(ZDays).max(MAX_RETRIES),
  pastDueAfterDays: ZDays,
  suspendAfterDays: ZDays,
  cancelAfterDays: ZDays,
  archiveAfterDays: ZDays,
});
