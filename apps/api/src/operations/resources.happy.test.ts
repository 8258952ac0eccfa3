import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("resources over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let id: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    id = await h.deployment(t.admin, "provisioned");
    await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio" },
    });
  });
  afterAll(() => h?.close());

  it("registers a resource that counts against entitlements, and releases it", async () => {
    const registered = await h.request("POST", `/api/v1/deployments/${id}/resources`, {
      body: { kind: "storage", providerRef: "vol-1", qty: "2.5" },
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      kind: "storage",
      providerRef: "vol-1",
      qty: "2.5",
      releasedAt: null,
    });
    const listed = await h.request("GET", `/api/v1/deployments/${id}/resources`, { token: t.viewer });
    expect(listed.body).toEqual([registered.body]);
    const used = await h.request("GET", `/api/v1/deployments/${id}/entitlements`, { token: t.viewer });
    expect(used.body.find((e: { kind: string }) => e.kind === "storage")).toMatchObject({ used: "2.5" });

    const released = await h.request("DELETE", `/api/v1/deployments/${id}/resources/${registered.body.id}`);
    expect(released.status).toBe(200);
    expect(released.body.releasedAt).not.toBeNull();
    const after = await h.request("GET", `/api/v1/deployments/${id}/entitlements`, { token: t.viewer });
    expect(after.body.find((e: { kind: string }) => e.kind === "storage")).toMatchObject({ used: "0" });
  });
});
