import {
  DEFAULT_REGIONS,
  DEPLOYMENT_STATES,
  DISPLAY_NAME_MAX,
  DISPLAY_NAME_RULE,
  isDisplayName,
  isReason,
  LLM_MODES,
  REASON_MAX,
  REASON_RULE,
  ROLES,
  SLUG_PATTERN,
  SLUG_RULE,
} from "@arcadia/domain";
import { z } from "zod";
import { characters, page, ZCursor, ZId, ZInstant, ZLimit } from "./common.ts";
import { ZSubscription } from "./subscriptions.ts";

export const ZDeploymentState = z.enum(DEPLOYMENT_STATES);
export const ZLlmMode = z.enum(LLM_MODES);
export const ZSlug = z.string().regex(SLUG_PATTERN, SLUG_RULE);
export const ZDisplayName = characters({ min: 1, max: DISPLAY_NAME_MAX }, isDisplayName, DISPLAY_NAME_RULE);
export const ZReason = characters({ max: REASON_MAX }, isReason, REASON_RULE);
/** Regions are configuration (REGIONS), so the server checks the configured list; these are the defaults. */
export const ZRegion = z
  .string()
  .max(100)
  .meta({
    description: `one of the configured regions (default: ${DEFAULT_REGIONS.join(", ")})`,
    examples: [...DEFAULT_REGIONS],
  });

export const ZDeployment = z
  .object({
    id: ZId,
    tenantId: ZId,
    slug: z.string(),
    displayName: z.string(),
    region: z.string(),
    state: ZDeploymentState,
    llmMode: ZLlmMode,
    billingActionSuspended: z.boolean(),
    templateCode: z.string().nullable(),
    templateVersion: z.string().nullable(),
    createdAt: ZInstant,
    updatedAt: ZInstant,
  })
  .meta({ id: "Deployment" });

export const ZActor = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("principal"), id: z.string(), role: z.enum(ROLES) }),
    z.object({ type: z.literal("system"), id: z.string() }),
  ])
  .meta({ id: "Actor" });

export const ZDeploymentEvent = z
  .object({
    id: ZId,
    deploymentId: ZId,
    sequence: z.number().int().min(1),
    fromState: ZDeploymentState.nullable(),
    toState: ZDeploymentState,
    actor: ZActor,
    reason: z.string().nullable(),
    occurredAt: ZInstant,
  })
  .meta({ id: "DeploymentEvent" });

export const ZDeploymentDocument = z
  .object({
    deployment: ZDeployment,
    subscription: ZSubscription.nullable(),
    events: z.array(ZDeploymentEvent).describe("oldest first"),
  })
  .meta({ id: "DeploymentDocument" });

export const ZListDeploymentsRequest = z.strictObject({
  tenantId: ZId.optional(),
  state: ZDeploymentState.optional(),
  limit: ZLimit,
  cursor: ZCursor,
});
export const ZDeploymentPage = page(ZDeployment);

export const ZGetDeploymentRequest = z.strictObject({ id: ZId });

export const ZCreateDeploymentRequest = z.strictObject({
  slug: ZSlug,
  displayName: ZDisplayName,
  region: ZRegion,
  llmMode: ZLlmMode.optional(),
  trial: z.boolean().optional(),
  tenantId: ZId.optional(),
});

export const ZUpdateDeploymentRequest = z.strictObject({
  id: ZId,
  displayName: ZDisplayName.optional(),
  llmMode: ZLlmMode.optional(),
  billingActionSuspended: z.boolean().optional(),
});

export const ZTransitionRequest = z.strictObject({
  id: ZId,
  to: ZDeploymentState,
  reason: ZReason.nullish(),
});
export const ZTransitionResponse = z
  .object({ deployment: ZDeployment, event: ZDeploymentEvent })
  .meta({ id: "TransitionResult" });
