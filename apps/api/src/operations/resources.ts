import * as C from "@arcadia/contract";
import { presentResource, registerResource, releaseResource } from "@arcadia/db";
import { operation } from "./operation.ts";

export const registerResourceOp = operation({
  name: "resources.register",
  kind: "mutation",
  method: "post",
  path: "/deployments/{id}/resources",
  status: 201,
  summary: "Register a cloud resource provisioned for a deployment",
  access: "platform_admin",
  input: C.ZRegisterResourceRequest,
  output: C.ZCloudResource,
  run: async ({ ctx, principal }, { id, ...input }) =>
    presentResource(await registerResource(ctx, principal, id, input)),
});

export const releaseResourceOp = operation({
  name: "resources.release",
  kind: "mutation",
  method: "delete",
  path: "/deployments/{id}/resources/{resourceId}",
  status: 200,
  summary: "Release a cloud resource",
  access: "platform_admin",
  input: C.ZReleaseResourceRequest,
  output: C.ZCloudResource,
  run: async ({ ctx, principal }, input) =>
    presentResource(await releaseResource(ctx, principal, input.id, input.resourceId)),
});
