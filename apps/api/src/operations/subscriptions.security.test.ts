import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("subscriptions over REST on %s (security)", (backend) => {
  let h: Harness;
  let a: TenantTokens;
  let b: TenantTokens;
  let id: string;
  let attachmentId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant();
    b = await h.tenant();
    id = await h.deployment(a.admin, "guarded");
    const sub = await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: a.admin,
      body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
    });
    attachmentId = sub.body.addons[0].id;
  });
  afterAll(() => h?.close());

  const writes = () => [
    { method: "POST", path: `/api/v1/deployments/${id}/subscription/addons`, body: { code: "storage_50gb" } },
    { method: "DELETE", path: `/api/v1/deployments/${id}/subscription/addons/${attachmentId}` },
    {
      method: "POST",
      path: `/api/v1/deployments/${id}/subscription/change-plan`,
      body: { planCode: "scale", effective: "immediate" },
    },
  ];

  it("answers 404 to another tenant, 403 to a viewer, 401 without a token; nothing changes", async () => {
    const before = (await h.request("GET", `/api/v1/deployments/${id}`, { token: a.admin })).body
      .subscription;
    for (const write of writes()) {
      for (const token of [b.admin, b.viewer]) {
        expect((await h.request(write.method, write.path, { token, body: write.body })).status).toBe(404);
      }
      const viewer = await h.request(write.method, write.path, { token: a.viewer, body: write.body });
      expect(viewer.status).toBe(403);
      expect(viewer.body.error.code).toBe("FORBIDDEN");
      expect((await h.request(write.method, write.path, { token: null, body: write.body })).status).toBe(401);
    }
    expect(
      (await h.request("GET", `/api/v1/deployments/${id}`, { token: a.admin })).body.subscription,
    ).toEqual(before);
  });
});
