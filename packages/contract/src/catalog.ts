import { CATALOG_NAME_MAX, CATALOG_NAME_RULE, TRIAL_DAYS_MAX, TRIAL_DAYS_RULE } from "@arcadia/domain";
import { z } from "zod";
import { ZCatalogCode, ZCode, ZCurrency, ZDecimal, ZId, ZInstant, ZNonNegativeCents } from "./common.ts";

export const ZIncludes = z.record(ZCatalogCode, ZDecimal).describe("resource kind → included quantity");
const ZCatalogName = z.string().min(1, CATALOG_NAME_RULE).max(CATALOG_NAME_MAX, CATALOG_NAME_RULE);

export const ZPlanVersion = z
  .object({
    id: ZId,
    planCode: z.string(),
    version: z.number().int(),
    priceCents: ZNonNegativeCents,
    currency: ZCurrency,
    trialDays: z.number().int(),
    includes: ZIncludes,
    createdAt: ZInstant,
  })
  .meta({ id: "PlanVersion" });

export const ZPlan = z
  .object({
    id: ZId,
    code: z.string(),
    name: z.string(),
    createdAt: ZInstant,
    currentVersion: ZPlanVersion,
    versions: z.array(ZPlanVersion).describe("oldest first"),
  })
  .meta({ id: "Plan" });

export const ZListPlansRequest = z.strictObject({});
export const ZPlanList = z.array(ZPlan);
export const ZGetPlanRequest = z.strictObject({ code: ZCode });

const versionFields = {
  priceCents: ZNonNegativeCents,
  currency: ZCurrency.optional(),
  trialDays: z.number().int().min(0, TRIAL_DAYS_RULE).max(TRIAL_DAYS_MAX, TRIAL_DAYS_RULE).optional(),
  includes: ZIncludes.optional(),
};
export const ZCreatePlanRequest = z.strictObject({
  code: ZCatalogCode,
  name: ZCatalogName,
  ...versionFields,
});
export const ZPublishPlanVersionRequest = z.strictObject({ code: ZCode, ...versionFields });

export const ZAddon = z
  .object({
    id: ZId,
    code: z.string(),
    name: z.string(),
    resourceKind: z.string(),
    qty: ZDecimal,
    priceCents: ZNonNegativeCents,
    currency: ZCurrency,
    active: z.boolean(),
    createdAt: ZInstant,
    updatedAt: ZInstant,
  })
  .meta({ id: "Addon" });

export const ZListAddonsRequest = z.strictObject({});
export const ZAddonList = z.array(ZAddon);
export const ZCreateAddonRequest = z.strictObject({
  code: ZCatalogCode,
  name: ZCatalogName,
  resourceKind: ZCatalogCode,
  qty: ZDecimal,
  priceCents: ZNonNegativeCents,
  currency: ZCurrency.optional(),
  active: z.boolean().optional(),
});
export const ZUpdateAddonRequest = z.strictObject({
  code: ZCode,
  name: ZCatalogName.optional(),
  priceCents: ZNonNegativeCents.optional(),
  active: z.boolean().optional(),
});
