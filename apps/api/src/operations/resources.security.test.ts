import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("resources over REST on %s (security)", (backend) => {
  let h: Harness;
  let a: TenantTokens;
  let b: TenantTokens;
  let id: string;
  let resourceId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant();
    b = await h.tenant();
    id = await h.deployment(a.admin, "infra");
    resourceId = (
      await h.request("POST", `/api/v1/deployments/${id}/resources`, {
        body: { kind: "storage", providerRef: "vol-a", qty: "1" },
      })
    ).body.id;
  });
  afterAll(() => h?.close());

  it("lets only a platform admin register or release; other tenants get 404; nothing changes", async () => {
    const writes = [
      {
        method: "POST",
        path: `/api/v1/deployments/${id}/resources`,
        body: { kind: "storage", providerRef: "x", qty: "1" },
      },
      { method: "DELETE", path: `/api/v1/deployments/${id}/resources/${resourceId}` },
    ];
    for (const write of writes) {
      for (const token of [a.admin, a.viewer]) {
        expect((await h.request(write.method, write.path, { token, body: write.body })).status).toBe(403);
      }
      for (const token of [b.admin, b.viewer]) {
        expect((await h.request(write.method, write.path, { token, body: write.body })).status).toBe(404);
      }
      expect((await h.request(write.method, write.path, { token: null, body: write.body })).status).toBe(401);
    }
    expect((await h.request("GET", `/api/v1/deployments/${id}/resources`, { token: b.admin })).status).toBe(
      404,
    );
    const own = await h.request("GET", `/api/v1/deployments/${id}/resources`, { token: a.viewer });
    expect(own.body.map((r: { id: string; releasedAt: unknown }) => [r.id, r.releasedAt])).toEqual([
      [resourceId, null],
    ]);
  });
});
