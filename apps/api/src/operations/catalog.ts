import * as C from "@arcadia/contract";
import {
  createAddon,
  createPlan,
  getPlan,
  listAddons,
  listPlans,
  presentAddon,
  presentPlan,
  publishPlanVersion,
  updateAddon,
} from "@arcadia/db";
import { operation } from "./operation.ts";

export const listPlansOp = operation({
  name: "catalog.listPlans",
  kind: "query",
  method: "get",
  path: "/plans",
  status: 200,
  summary: "List plans with their versions",
  access: "any",
  input: C.ZListPlansRequest,
  output: C.ZPlanList,
  run: async ({ ctx }) => (await listPlans(ctx)).map(presentPlan),
});

export const getPlanOp = operation({
  name: "catalog.getPlan",
  kind: "query",
  method: "get",
  path: "/plans/{code}",
  status: 200,
  summary: "Get a plan with its versions",
  access: "any",
  input: C.ZGetPlanRequest,
  output: C.ZPlan,
  run: async ({ ctx }, input) => presentPlan(await getPlan(ctx, input.code)),
});

export const createPlanOp = operation({
  name: "catalog.createPlan",
  kind: "mutation",
  method: "post",
  path: "/plans",
  status: 201,
  summary: "Create a plan with its first version",
  access: "platform_admin",
  input: C.ZCreatePlanRequest,
  output: C.ZPlan,
  run: async ({ ctx, principal }, input) => presentPlan(await createPlan(ctx, principal, input)),
});

export const publishPlanVersionOp = operation({
  name: "catalog.publishPlanVersion",
  kind: "mutation",
  method: "post",
  path: "/plans/{code}/versions",
  status: 201,
  summary: "Publish a new immutable version of a plan",
  access: "platform_admin",
  input: C.ZPublishPlanVersionRequest,
  output: C.ZPlan,
  run: async ({ ctx, principal }, { code, ...version }) =>
    presentPlan(await publishPlanVersion(ctx, principal, code, version)),
});

export const listAddonsOp = operation({
  name: "catalog.listAddons",
  kind: "query",
  method: "get",
  path: "/addons",
  status: 200,
  summary: "List add-ons",
  access: "any",
  input: C.ZListAddonsRequest,
  output: C.ZAddonList,
  run: async ({ ctx }) => (await listAddons(ctx)).map(presentAddon),
});

export const createAddonOp = operation({
  name: "catalog.createAddon",
  kind: "mutation",
  method: "post",
  path: "/addons",
  status: 201,
  summary: "Create an add-on",
  access: "platform_admin",
  input: C.ZCreateAddonRequest,
  output: C.ZAddon,
  run: async ({ ctx, principal }, input) => presentAddon(await createAddon(ctx, principal, input)),
});

export const updateAddonOp = operation({
  name: "catalog.updateAddon",
  kind: "mutation",
  method: "patch",
  path: "/addons/{code}",
  status: 200,
  summary: "Change an add-on's live price, name or availability (existing attachments keep their snapshot)",
  access: "platform_admin",
  input: C.ZUpdateAddonRequest,
  output: C.ZAddon,
  run: async ({ ctx, principal }, { code, ...patch }) =>
    presentAddon(await updateAddon(ctx, principal, code, patch)),
});
