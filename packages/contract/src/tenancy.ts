import {
  isTenantName,
  MAX_CLOCK_ADVANCE_MONTHS,
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
