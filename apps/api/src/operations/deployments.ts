import * as C from "@arcadia/contract";
import {
  createDeployment,
  entitlements,
  listDeploymentsJson,
  listResources,
  presentDeployment,
  presentEntitlement,
  presentEvent,
  presentResource,
  presentSubscription,
  readDeploymentDocumentJson,
  subscribe,
  transitionDeployment,
  updateDeployment,
} from "@arcadia/db";
import { operation } from "./operation.ts";

export const listDeploymentsOp = operation({
  name: "deployments.list",
  kind: "query",
  method: "get",
  path: "/deployments",
  status: 200,
  summary: "List deployments (oldest first, cursor-paginated)",
  access: "any",
  input: C.ZListDeploymentsRequest,
  output: C.ZDeploymentPage,
  run: ({ ctx, principal }, input) => listDeploymentsJson(ctx, principal, input),
});

export const createDeploymentOp = operation({
  name: "deployments.create",
  kind: "mutation",
  method: "post",
  path: "/deployments",
  status: 201,
  summary: "Create a deployment (active, or trial with trial: true)",
  access: "admins",
  input: C.ZCreateDeploymentRequest,
  output: C.ZDeployment,
  run: async ({ ctx, principal }, input) =>
    presentDeployment((await createDeployment(ctx, principal, input)).deployment),
});

export const getDeploymentOp = operation({
  name: "deployments.get",
  kind: "query",
  method: "get",
  path: "/deployments/{id}",
  status: 200,
  summary: "A deployment with its subscription (plan version, add-ons) and its events",
  access: "any",
  input: C.ZGetDeploymentRequest,
  output: C.ZDeploymentDocument,
  run: ({ ctx, principal }, input) => readDeploymentDocumentJson(ctx.sqlEm, principal, input.id),
});

export const updateDeploymentOp = operation({
  name: "deployments.update",
  kind: "mutation",
  method: "patch",
  path: "/deployments/{id}",
  status: 200,
  summary: "Change displayName or llmMode (billingActionSuspended: platform_admin only)",
  access: "admins",
  input: C.ZUpdateDeploymentRequest,
  output: C.ZDeployment,
  run: async ({ ctx, principal }, { id, ...patch }) =>
    presentDeployment(await updateDeployment(ctx, principal, id, patch)),
});

export const transitionDeploymentOp = operation({
  name: "deployments.transition",
  kind: "mutation",
  method: "post",
  path: "/deployments/{id}/transition",
  status: 200,
  summary: "Move a deployment through its lifecycle",
  access: "admins",
  input: C.ZTransitionRequest,
  output: C.ZTransitionResponse,
  run: async ({ ctx, principal }, { id, to, reason }) => {
    const { deployment, event } = await transitionDeployment(ctx, principal, id, { to, reason });
    return { deployment: presentDeployment(deployment), event: presentEvent(event) };
  },
});

export const subscribeOp = operation({
  name: "deployments.subscribe",
  kind: "mutation",
  method: "post",
  path: "/deployments/{id}/subscribe",
  status: 201,
  summary: "Subscribe a deployment to a plan version, with add-ons",
  access: "admins",
  input: C.ZSubscribeRequest,
  output: C.ZSubscription,
  run: async ({ ctx, principal }, { id, ...input }) =>
    presentSubscription(await subscribe(ctx, principal, id, input)),
});

export const listResourcesOp = operation({
  name: "deployments.resources",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/resources",
  status: 200,
  summary: "Cloud resources of a deployment",
  access: "any",
  input: C.ZListResourcesRequest,
  output: C.ZResourceList,
  run: async ({ ctx, principal }, input) =>
    (await listResources(ctx, principal, input.id)).map(presentResource),
});

export const entitlementsOp = operation({
  name: "deployments.entitlements",
  kind: "query",
  method: "get",
  path: "/deployments/{id}/entitlements",
  status: 200,
  summary: "Included, used and remaining quantity per resource kind",
  access: "any",
  input: C.ZEntitlementsRequest,
  output: C.ZEntitlementList,
  run: async ({ ctx, principal }, input) =>
    (await entitlements(ctx, principal, input.id)).map(presentEntitlement),
});
