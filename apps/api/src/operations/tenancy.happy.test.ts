import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../testing/harness.ts";

describe.each(testBackends())("tenants and tokens over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  it("creates a tenant, issues it a token that works, and revokes it", async () => {
    const tenant = await h.request("POST", "/api/v1/tenants", {
      body: { slug: "acme", name: "Acme Pty Ltd" },
    });
    expect(tenant.status).toBe(201);
    expect(tenant.body).toMatchObject({ slug: "acme", name: "Acme Pty Ltd" });
    const listed = await h.request("GET", "/api/v1/tenants");
    expect(listed.body.map((x: { id: string }) => x.id)).toContain(tenant.body.id);

    const issued = await h.request("POST", "/api/v1/tokens", {
      body: { role: "tenant_admin", tenantId: tenant.body.id, name: "ci" },
    });
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ role: "tenant_admin", tenantId: tenant.body.id, revokedAt: null });
    expect(issued.body.token).toMatch(/^arc_/);
    const asTenant = await h.request("GET", "/api/v1/deployments", { token: issued.body.token });
    expect(asTenant.status).toBe(200);

    // A tenant admin issues a viewer token of its own tenant.
    const viewer = await h.request("POST", "/api/v1/tokens", {
      token: issued.body.token,
      body: { role: "tenant_viewer", name: "dashboard" },
    });
    expect(viewer.status).toBe(201);
    expect(viewer.body.tenantId).toBe(tenant.body.id);

    const revoked = await h.request("DELETE", `/api/v1/tokens/${issued.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await h.request("GET", "/api/v1/deployments", { token: issued.body.token })).status).toBe(401);
  });
});
