import * as C from "@arcadia/contract";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookAttempts,
  listWebhookEndpoints,
  presentPage,
  presentRedelivery,
  presentWebhookAttempt,
  presentWebhookEndpoint,
  presentWebhookEndpointWithSecret,
  redeliverWebhookEvent,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "@arcadia/db";
import type { Services } from "../services.ts";
import { operation } from "./operation.ts";

const outboundPolicy = (services: Services) => ({
  allowPrivateNetworks: services.webhookAllowPrivateNetworks ?? false,
});

export const listWebhookEndpointsOp = operation({
  name: "webhooks.list",
  kind: "query",
  method: "get",
  path: "/webhook-endpoints",
  status: 200,
  summary: "Webhook endpoints (oldest first, cursor-paginated; secrets are never shown again)",
  access: "any",
  input: C.ZListWebhookEndpointsRequest,
  output: C.ZWebhookEndpointPage,
  run: async ({ ctx, principal }, input) =>
    presentPage(await listWebhookEndpoints(ctx, principal, input), presentWebhookEndpoint),
});

export const createWebhookEndpointOp = operation({
  name: "webhooks.create",
  kind: "mutation",
  method: "post",
  path: "/webhook-endpoints",
  status: 201,
  summary: "Create a webhook endpoint; the answer carries its signing secret, shown only this once",
  access: "admins",
  input: C.ZCreateWebhookEndpointRequest,
  output: C.ZWebhookEndpointWithSecret,
  run: async ({ ctx, principal, services }, input) =>
    presentWebhookEndpointWithSecret(
      await createWebhookEndpoint(ctx, principal, input, outboundPolicy(services)),
    ),
});

export const getWebhookEndpointOp = operation({
  name: "webhooks.get",
  kind: "query",
  method: "get",
  path: "/webhook-endpoints/{id}",
  status: 200,
  summary: "A webhook endpoint (without its secret)",
  access: "any",
  input: C.ZGetWebhookEndpointRequest,
  output: C.ZWebhookEndpoint,
  run: async ({ ctx, principal }, input) =>
    presentWebhookEndpoint(await getWebhookEndpoint(ctx, principal, input.id)),
});

export const updateWebhookEndpointOp = operation({
  name: "webhooks.update",
  kind: "mutation",
  method: "patch",
  path: "/webhook-endpoints/{id}",
  status: 200,
  summary: "Change a webhook endpoint's URL, event types or description; enable or disable it",
  access: "admins",
  input: C.ZUpdateWebhookEndpointRequest,
  output: C.ZWebhookEndpoint,
  run: async ({ ctx, principal, services }, { id, ...patch }) =>
    presentWebhookEndpoint(await updateWebhookEndpoint(ctx, principal, id, patch, outboundPolicy(services))),
});

export const deleteWebhookEndpointOp = operation({
  name: "webhooks.delete",
  kind: "mutation",
  method: "delete",
  path: "/webhook-endpoints/{id}",
  status: 200,
  summary: "Delete a webhook endpoint and its delivery log",
  access: "admins",
  input: C.ZDeleteWebhookEndpointRequest,
  output: C.ZWebhookEndpoint,
  run: async ({ ctx, principal }, input) =>
    presentWebhookEndpoint(await deleteWebhookEndpoint(ctx, principal, input.id)),
});

export const rotateWebhookSecretOp = operation({
  name: "webhooks.rotateSecret",
  kind: "mutation",
  method: "post",
  path: "/webhook-endpoints/{id}/rotate-secret",
  status: 200,
  summary: "A new signing secret (shown only now); the previous one keeps signing for 24 hours",
  access: "admins",
  input: C.ZRotateWebhookSecretRequest,
  output: C.ZWebhookEndpointWithSecret,
  run: async ({ ctx, principal }, input) =>
    presentWebhookEndpointWithSecret(await rotateWebhookSecret(ctx, principal, input.id)),
});

export const listWebhookAttemptsOp = operation({
  name: "webhooks.deliveries",
  kind: "query",
  method: "get",
  path: "/webhook-endpoints/{id}/deliveries",
  status: 200,
  summary: "The delivery log: every attempt (status, duration, error), oldest first",
  access: "any",
  input: C.ZListWebhookAttemptsRequest,
  output: C.ZWebhookAttemptPage,
  run: async ({ ctx, principal }, { id, ...query }) =>
    presentPage(await listWebhookAttempts(ctx, principal, id, query), presentWebhookAttempt),
});

export const redeliverOp = operation({
  name: "webhooks.redeliver",
  kind: "mutation",
  method: "post",
  path: "/webhook-endpoints/{id}/deliveries/{eventId}/redeliver",
  status: 202,
  summary: "Send an event to the endpoint again, now (with a fresh retry schedule)",
  access: "admins",
  input: C.ZRedeliverRequest,
  output: C.ZRedelivery,
  run: async ({ ctx, principal }, input) =>
    presentRedelivery(await redeliverWebhookEvent(ctx, principal, input.id, input.eventId)),
});
