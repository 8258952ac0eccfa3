import * as C from "@arcadia/contract";
import {
  createTenant,
  getDunningPolicy,
  getTenant,
  issueToken,
  listTenants,
  presentDunningPolicy,
  presentIssuedToken,
  presentPaymentMethod,
  presentTenant,
  presentToken,
  removePaymentMethod,
  revokeToken,
  setDunningPolicy,
  setPaymentMethod,
  updateTenant,
} from "@arcadia/db";
import { collectionDeps } from "./collection-deps.ts";
import { operation } from "./operation.ts";

export const listTenantsOp = operation({
  name: "tenants.list",
  kind: "query",
  method: "get",
  path: "/tenants",
  status: 200,
  summary: "List tenants",
  access: "platform_admin",
  input: C.ZListTenantsRequest,
  output: C.ZTenantList,
  run: async ({ ctx, principal }) => (await listTenants(ctx, principal)).map(presentTenant),
});

export const createTenantOp = operation({
  name: "tenants.create",
  kind: "mutation",
  method: "post",
  path: "/tenants",
  status: 201,
  summary: "Create a tenant (with testClock: a sandbox)",
  access: "platform_admin",
  input: C.ZCreateTenantRequest,
  output: C.ZTenant,
  run: async ({ ctx, principal }, { testClock, ...input }) =>
    presentTenant(
      await createTenant(ctx, principal, {
        ...input,
        testClock: testClock ? { frozenAt: new Date(testClock.frozenAt) } : null,
      }),
    ),
});

export const createTokenOp = operation({
  name: "tokens.create",
  kind: "mutation",
  method: "post",
  path: "/tokens",
  status: 201,
  summary: "Issue an API token (its secret is shown once)",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZCreateTokenRequest,
  output: C.ZCreatedToken,
  run: async ({ ctx, principal }, input) => presentIssuedToken(await issueToken(ctx, principal, input)),
});

export const revokeTokenOp = operation({
  name: "tokens.revoke",
  kind: "mutation",
  method: "delete",
  path: "/tokens/{id}",
  status: 200,
  summary: "Revoke an API token",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZRevokeTokenRequest,
  output: C.ZToken,
  run: async ({ ctx, principal, services }, input) => {
    const token = await revokeToken(ctx, principal, input.id);
    services.principals?.forget(token.id);
    return presentToken(token);
  },
});

export const getTenantOp = operation({
  name: "tenants.get",
  kind: "query",
  method: "get",
  path: "/tenants/{id}",
  status: 200,
  summary: "A tenant (its admins and platform admins)",
  access: "admins",
  input: C.ZGetTenantRequest,
  output: C.ZTenant,
  run: async ({ ctx, principal }, input) => presentTenant(await getTenant(ctx, principal, input.id)),
});

export const updateTenantOp = operation({
  name: "tenants.update",
  kind: "mutation",
  method: "patch",
  path: "/tenants/{id}",
  status: 200,
  summary: "Rename a tenant or change its payment terms (invoices issued from now on)",
  access: "platform_admin",
  input: C.ZUpdateTenantRequest,
  output: C.ZTenant,
  run: async ({ ctx, principal }, { id, ...patch }) =>
    presentTenant(await updateTenant(ctx, principal, id, patch)),
});

export const setPaymentMethodOp = operation({
  name: "tenants.setPaymentMethod",
  kind: "mutation",
  method: "put",
  path: "/tenants/{id}/payment-method",
  status: 200,
  summary: "Set the tenant's payment method (the token is never shown back whole)",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZSetPaymentMethodRequest,
  output: C.ZPaymentMethod,
  run: async ({ ctx, principal, services }, { id, ...input }) =>
    presentPaymentMethod(
      await setPaymentMethod(ctx, principal, id, input, collectionDeps(services).providers),
    ),
});

export const removePaymentMethodOp = operation({
  name: "tenants.removePaymentMethod",
  kind: "mutation",
  method: "delete",
  path: "/tenants/{id}/payment-method",
  status: 200,
  summary: "Remove the tenant's payment method",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZRemovePaymentMethodRequest,
  output: C.ZPaymentMethod,
  run: async ({ ctx, principal }, input) =>
    presentPaymentMethod(await removePaymentMethod(ctx, principal, input.id)),
});

export const getDunningPolicyOp = operation({
  name: "tenants.dunningPolicy",
  kind: "query",
  method: "get",
  path: "/tenants/{id}/dunning-policy",
  status: 200,
  summary: "The tenant's dunning policy (the platform default unless one is set)",
  access: "admins",
  input: C.ZGetDunningPolicyRequest,
  output: C.ZDunningPolicy,
  run: async ({ ctx, principal }, input) =>
    presentDunningPolicy(await getDunningPolicy(ctx, principal, input.id)),
});

export const setDunningPolicyOp = operation({
  name: "tenants.setDunningPolicy",
  kind: "mutation",
  method: "put",
  path: "/tenants/{id}/dunning-policy",
  status: 200,
  summary: "Set the tenant's dunning policy",
  access: "platform_admin",
  input: C.ZSetDunningPolicyRequest,
  output: C.ZDunningPolicy,
  run: async ({ ctx, principal }, { id, ...policy }) =>
    presentDunningPolicy(await setDunningPolicy(ctx, principal, id, policy)),
});
