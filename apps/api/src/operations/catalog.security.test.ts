import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("catalog over REST on %s (security)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("lets only a platform admin change the catalog, and a refusal changes nothing", async () => {
    const writes = [
      { method: "POST", path: "/api/v1/plans", body: { code: "free", name: "Free", priceCents: 0 } },
      { method: "POST", path: "/api/v1/plans/studio/versions", body: { priceCents: 1 } },
      {
        method: "POST",
        path: "/api/v1/addons",
        body: { code: "x", name: "X", resourceKind: "x", qty: "1", priceCents: 1 },
      },
      { method: "PATCH", path: "/api/v1/addons/storage_50gb", body: { priceCents: 1 } },
    ];
    const before = await h.request("GET", "/api/v1/plans");
    const addonsBefore = await h.request("GET", "/api/v1/addons");
    for (const write of writes) {
      for (const token of [t.admin, t.viewer]) {
        const r = await h.request(write.method, write.path, { token, body: write.body });
        expect(r.status, `${write.method} ${write.path}`).toBe(403);
        expect(r.body.error.code).toBe("FORBIDDEN");
      }
      const anonymous = await h.request(write.method, write.path, { token: null, body: write.body });
      expect(anonymous.status).toBe(401);
    }
    expect((await h.request("GET", "/api/v1/plans")).body).toEqual(before.body);
    expect((await h.request("GET", "/api/v1/addons")).body).toEqual(addonsBefore.body);
  });

  it("needs a valid token even to read", async () => {
    expect((await h.request("GET", "/api/v1/plans", { token: null })).status).toBe(401);
    expect((await h.request("GET", "/api/v1/addons", { token: "arc_not-a-token" })).status).toBe(401);
  });
});
