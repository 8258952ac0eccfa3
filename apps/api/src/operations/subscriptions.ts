import * as C from "@arcadia/contract";
import { attachAddon, changePlan, detachAddon, presentAttachment, presentSubscription } from "@arcadia/db";
import { operation } from "./operation.ts";

export const attachAddonOp = operation({
  name: "subscriptions.attachAddon",
  kind: "mutation",
  method: "post",
  path: "/deployments/{id}/subscription/addons",
  status: 201,
  summary: "Attach an add-on; its kind, quantity, price and currency are snapshotted",
  access: "admins",
  input: C.ZAttachAddonRequest,
  output: C.ZAddonAttachment,
  run: async ({ ctx, principal }, input) =>
    presentAttachment(await attachAddon(ctx, principal, input.id, input.code)),
});

export const detachAddonOp = operation({
  name: "subscriptions.detachAddon",
  kind: "mutation",
  method: "delete",
  path: "/deployments/{id}/subscription/addons/{attachmentId}",
  status: 200,
  summary: "Detach an add-on (kept for billing history)",
  access: "admins",
  input: C.ZDetachAddonRequest,
  output: C.ZAddonAttachment,
  run: async ({ ctx, principal }, input) =>
    presentAttachment(await detachAddon(ctx, principal, input.id, input.attachmentId)),
});

export const changePlanOp = operation({
  name: "subscriptions.changePlan",
  kind: "mutation",
  method: "post",
  path: "/deployments/{id}/subscription/change-plan",
  status: 200,
  summary: "Change the plan version now (prorated) or at the period's end",
  access: "admins",
  input: C.ZChangePlanRequest,
  output: C.ZSubscription,
  run: async ({ ctx, principal }, { id, ...input }) =>
    presentSubscription(await changePlan(ctx, principal, id, input)),
});
