import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("tenants and tokens over REST on %s (security)", (backend) => {
  let h: Harness;
  let a: TenantTokens;
  let b: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant();
    b = await h.tenant();
  });
  afterAll(() => h?.close());

  it("keeps tenants to the platform admin and tokens to their own tenant", async () => {
    for (const token of [a.admin, a.viewer]) {
      expect((await h.request("GET", "/api/v1/tenants", { token })).status).toBe(403);
      expect(
        (await h.request("POST", "/api/v1/tenants", { token, body: { slug: "mine", name: "M" } })).status,
      ).toBe(403);
    }
    // A tenant admin may not mint a platform admin, nor a token of another tenant.
    const escalate = await h.request("POST", "/api/v1/tokens", {
      token: a.admin,
      body: { role: "platform_admin", name: "root" },
    });
    expect(escalate.status).toBe(403);
    const elsewhere = await h.request("POST", "/api/v1/tokens", {
      token: a.admin,
      body: { role: "tenant_admin", tenantId: b.tenantId, name: "x" },
    });
    expect(elsewhere.status).toBe(404);
    const viewerIssues = await h.request("POST", "/api/v1/tokens", {
      token: a.viewer,
      body: { role: "tenant_viewer", name: "x" },
    });
    expect(viewerIssues.status).toBe(403);
    // Another tenant's token cannot be revoked, and is not confirmed to exist.
    const bToken = await h.request("POST", "/api/v1/tokens", {
      token: b.admin,
      body: { role: "tenant_viewer", name: "b" },
    });
    expect((await h.request("DELETE", `/api/v1/tokens/${bToken.body.id}`, { token: a.admin })).status).toBe(
      404,
    );
    expect((await h.request("GET", "/api/v1/deployments", { token: bToken.body.token })).status).toBe(200);
    expect((await h.request("GET", "/api/v1/tenants", { token: null })).status).toBe(401);
  });
});
