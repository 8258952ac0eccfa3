import { DEPLOYMENT_STATES, LLM_MODES, ROLES } from "@arcadia/domain";
import { z } from "zod";
import { page, ZCursor, ZId, ZInstant, ZLimit } from "./common.ts";
import { ZSubscription } from "./subscriptions.ts";

export const ZDeploymentState = z.enum(DEPLOYMENT_STATES);
export const ZLlmMode = z.enum(LLM_MODES);

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
  slug: z.string().max(100),
  displayName: z.string().max(1000),
  region: z.string().max(100),
  llmMode: ZLlmMode.optional(),
  trial: z.boolean().optional(),
  tenantId: ZId.optional(),
});

export const ZUpdateDeploymentRequest = z.strictObject({
  id: ZId,
  displayName: z.string().max(1000).optional(),
  llmMode: ZLlmMode.optional(),
  billingActionSuspended: z.boolean().optional(),
});

export const ZTransitionRequest = z.strictObject({
  id: ZId,
  to: ZDeploymentState,
  reason: z.string().max(2000).nullish(),
});
export const ZTransitionResponse = z
  .object({ deployment: ZDeployment, event: ZDeploymentEvent })
  .meta({ id: "TransitionResult" });
