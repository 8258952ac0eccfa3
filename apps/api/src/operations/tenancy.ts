import * as C from "@arcadia/contract";
import { createTenant, issueToken, listTenants, revokeToken } from "@arcadia/db";
import { presentIssuedToken, presentTenant, presentToken } from "../presenters/presenters.ts";
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
