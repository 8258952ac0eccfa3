import { z } from "zod";
import { page, ZCursor, ZId, ZInstant, ZLimit } from "./common.ts";
import { ZEventType } from "./events.ts";

const ZUrl = z
  .string()
  .min(1)
  .max(2048)
  .describe("https:// URL (http:// and private addresses only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)");
const ZEventTypes = z.array(ZEventType).min(1).max(50).describe("the event types sent; all when absent");
const ZDescription = z.string().max(500).nullable();

export const ZWebhookEndpoint = z
  .object({
    id: ZId,
    tenantId: ZId.nullable().describe("null: a platform-wide endpoint (every tenant's events)"),
    url: z.string(),
    eventTypes: z.array(ZEventType),
    description: ZDescription,
    enabled: z.boolean(),
    createdAt: ZInstant,
    updatedAt: ZInstant,
    lastSuccessAt: ZInstant.nullable(),
    disabledAt: ZInstant.nullable(),
    previousSecretExpiresAt: ZInstant.nullable().describe("until then the previous secret signs too"),
  })
  .meta({ id: "WebhookEndpoint" });

export const ZWebhookEndpointWithSecret = ZWebhookEndpoint.extend({
  secret: z.string().describe("whsec_…: shown only now"),
}).meta({ id: "WebhookEndpointWithSecret" });

export const ZCreateWebhookEndpointRequest = z.strictObject({
  url: ZUrl,
  eventTypes: ZEventTypes.optional(),
  description: ZDescription.optional(),
  tenantId: ZId.optional().describe("platform_admin: the tenant, or none for a platform-wide endpoint"),
});

export const ZListWebhookEndpointsRequest = z.strictObject({
  tenantId: ZId.optional(),
  limit: ZLimit,
  cursor: ZCursor,
});
export const ZWebhookEndpointPage = page(ZWebhookEndpoint);

export const ZGetWebhookEndpointRequest = z.strictObject({ id: ZId });
export const ZUpdateWebhookEndpointRequest = z.strictObject({
  id: ZId,
  url: ZUrl.optional(),
  eventTypes: ZEventTypes.optional(),
  description: ZDescription.optional(),
  enabled: z.boolean().optional(),
});
export const ZDeleteWebhookEndpointRequest = z.strictObject({ id: ZId });
export const ZRotateWebhookSecretRequest = z.strictObject({ id: ZId });

export const ZWebhookAttempt = z
  .object({
    id: ZId,
    eventId: ZId,
    attempt: z.number().int().min(1),
    attemptedAt: ZInstant,
    succeeded: z.boolean(),
    responseStatus: z.number().int().nullable(),
    durationMs: z.number().int().min(0),
    error: z.string().nullable(),
  })
  .meta({ id: "WebhookAttempt" });

export const ZListWebhookAttemptsRequest = z.strictObject({ id: ZId, limit: ZLimit, cursor: ZCursor });
export const ZWebhookAttemptPage = page(ZWebhookAttempt);

export const ZRedeliverRequest = z.strictObject({ id: ZId, eventId: ZId });
export const ZRedelivery = z
  .object({ endpointId: ZId, eventId: ZId, status: z.literal("pending"), nextAttemptAt: ZInstant })
  .meta({ id: "Redelivery" });
