import { testBackends } from "@arcadia/db/testing";
import { TENANT_NAME_MAX, TENANT_SLUG_RULE } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("tenants and tokens over REST on %s (errors)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant("taken");
  });
  afterAll(() => h?.close());

  it("refuses an invalid or taken tenant slug and a bad name, creating nothing", async () => {
    const before = (await h.request("GET", "/api/v1/tenants")).body.length;
    const badSlug = await h.request("POST", "/api/v1/tenants", { body: { slug: "Not A Slug", name: "X" } });
    expect(badSlug.status).toBe(400);
    expect(badSlug.body.error.details.fields).toEqual({ slug: TENANT_SLUG_RULE });
    const longName = await h.request("POST", "/api/v1/tenants", {
      body: { slug: "long-name", name: "n".repeat(TENANT_NAME_MAX + 1) },
    });
    expect(longName.status).toBe(400);
    expect(Object.keys(longName.body.error.details.fields)).toEqual(["name"]);
    const blank = await h.request("POST", "/api/v1/tenants", { body: { slug: "blank", name: "   " } });
    expect(blank.status).toBe(400);
    const taken = await h.request("POST", "/api/v1/tenants", { body: { slug: "taken", name: "Again" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("SLUG_TAKEN");
    expect((await h.request("GET", "/api/v1/tenants")).body.length).toBe(before);
  });

  it("refuses inconsistent token requests and a second revocation", async () => {
    const platformWithTenant = await h.request("POST", "/api/v1/tokens", {
      body: { role: "platform_admin", tenantId: t.tenantId, name: "x" },
    });
    expect(platformWithTenant.status).toBe(400);
    const tenantRoleWithout = await h.request("POST", "/api/v1/tokens", {
      body: { role: "tenant_admin", name: "x" },
    });
    expect(tenantRoleWithout.status).toBe(400);
    const badRole = await h.request("POST", "/api/v1/tokens", {
      body: { role: "root", tenantId: t.tenantId, name: "x" },
    });
    expect(badRole.status).toBe(400);
    const issued = await h.request("POST", "/api/v1/tokens", {
      body: { role: "tenant_viewer", tenantId: t.tenantId, name: "once" },
    });
    expect((await h.request("DELETE", `/api/v1/tokens/${issued.body.id}`)).status).toBe(200);
    const again = await h.request("DELETE", `/api/v1/tokens/${issued.body.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");
    expect((await h.request("DELETE", "/api/v1/tokens/0190a1b2-0000-7000-8000-000000000000")).status).toBe(
      404,
    );
  });
});
