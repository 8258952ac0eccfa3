import { PROVIDER_REF_MAX, PROVIDER_REF_RULE } from "@arcadia/domain";
import { z } from "zod";
import { ZCatalogCode, ZDecimal, ZId, ZInstant } from "./common.ts";

export const ZCloudResource = z
  .object({
    id: ZId,
    deploymentId: ZId,
    tenantId: ZId,
    kind: z.string(),
    providerRef: z.string(),
    qty: ZDecimal,
    createdAt: ZInstant,
    releasedAt: ZInstant.nullable(),
  })
  .meta({ id: "CloudResource" });

export const ZListResourcesRequest = z.strictObject({ id: ZId });
export const ZResourceList = z.array(ZCloudResource);
export const ZRegisterResourceRequest = z.strictObject({
  id: ZId,
  kind: ZCatalogCode,
  providerRef: z.string().min(1, PROVIDER_REF_RULE).max(PROVIDER_REF_MAX, PROVIDER_REF_RULE),
  qty: ZDecimal,
});
export const ZReleaseResourceRequest = z.strictObject({ id: ZId, resourceId: ZId });

export const ZEntitlement = z
  .object({ kind: z.string(), included: ZDecimal, used: ZDecimal, remaining: ZDecimal })
  .meta({ id: "Entitlement" });
export const ZEntitlementsRequest = z.strictObject({ id: ZId });
export const ZEntitlementList = z.array(ZEntitlement);
