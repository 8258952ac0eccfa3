import { PLAN_CHANGE_KINDS, ROLES, SUBSCRIPTION_STATUSES } from "@arcadia/domain";
import { z } from "zod";
import { ZPlanVersion } from "./catalog.ts";
import { ZCode, ZCurrency, ZDecimal, ZId, ZInstant, ZNonNegativeCents } from "./common.ts";

/** A plan version as a subscription holds it (the catalog's, without its publication instant). */
export const ZSubscriptionPlanVersion = ZPlanVersion.omit({ createdAt: true }).meta({
  id: "SubscriptionPlanVersion",
});

export const ZAddonAttachment = z
  .object({
    id: ZId,
    addonCode: z.string(),
    resourceKind: z.string(),
    qty: ZDecimal,
    priceCents: ZNonNegativeCents,
    currency: ZCurrency,
    attachedAt: ZInstant,
    detachedAt: ZInstant.nullable(),
  })
  .meta({ id: "AddonAttachment" });

export const ZPlanChange = z
  .object({
    id: ZId,
    sequence: z
      .number()
      .int()
      .min(1)
      .describe(
        "1, 2, 3… in the order the changes were made; of changes effective at one instant the last holds",
      ),
    kind: z.enum(PLAN_CHANGE_KINDS),
    fromPlanVersion: ZSubscriptionPlanVersion.nullable(),
    toPlanVersion: ZSubscriptionPlanVersion,
    requestedAt: ZInstant,
    effectiveAt: ZInstant,
    actor: z.object({
      type: z.enum(["principal", "system"]),
      id: z.string(),
      role: z.enum(ROLES).optional(),
    }),
    supersededAt: ZInstant.nullable(),
  })
  .meta({ id: "PlanChange" });

export const ZSubscription = z
  .object({
    id: ZId,
    deploymentId: ZId,
    planVersion: ZSubscriptionPlanVersion,
    status: z.enum(SUBSCRIPTION_STATUSES),
    currentPeriodStart: ZInstant,
    currentPeriodEnd: ZInstant,
    trialEndsAt: ZInstant.nullable(),
    pendingPlanVersion: ZSubscriptionPlanVersion.nullable(),
    addons: z.array(ZAddonAttachment),
    planHistory: z.array(ZPlanChange).describe("every plan-version change: who, when, from, to"),
    cancelledAt: ZInstant.nullable(),
    endedAt: ZInstant.nullable().describe("set once the last period of a cancelled subscription is billed"),
    createdAt: ZInstant,
  })
  .meta({ id: "Subscription" });

export const ZSubscribeRequest = z.strictObject({
  id: ZId,
  planCode: ZCode,
  planVersion: z.number().int().min(1).optional(),
  addons: z
    .array(z.strictObject({ code: ZCode }))
    .max(50)
    .optional(),
});

export const ZAttachAddonRequest = z.strictObject({ id: ZId, code: ZCode });
export const ZDetachAddonRequest = z.strictObject({ id: ZId, attachmentId: ZId });
export const ZChangePlanRequest = z.strictObject({
  id: ZId,
  planCode: ZCode,
  planVersion: z.number().int().min(1).optional(),
  effective: z.enum(["immediate", "period_end"]),
});
