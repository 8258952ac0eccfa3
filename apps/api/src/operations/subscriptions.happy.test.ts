import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("subscriptions over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let id: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    id = await h.deployment(t.admin, "subscribed");
    await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio" },
    });
  });
  afterAll(() => h?.close());

  it("attaches and detaches an add-on, keeping its snapshot", async () => {
    const attached = await h.request("POST", `/api/v1/deployments/${id}/subscription/addons`, {
      token: t.admin,
      body: { code: "storage_50gb" },
    });
    expect(attached.status).toBe(201);
    const attachment = attached.body;
    expect(attachment).toMatchObject({ addonCode: "storage_50gb", detachedAt: null });
    const detached = await h.request(
      "DELETE",
      `/api/v1/deployments/${id}/subscription/addons/${attachment.id}`,
      {
        token: t.admin,
      },
    );
    expect(detached.status).toBe(200);
    expect(detached.body.id).toBe(attachment.id);
    expect(detached.body.detachedAt).not.toBeNull();
    expect(detached.body.priceCents).toBe(attachment.priceCents);
    const doc = await h.request("GET", `/api/v1/deployments/${id}`, { token: t.viewer });
    expect(doc.body.subscription.addons).toEqual([detached.body]);
  });

  it("changes plan at period end (pending), then immediately, recording both in the history", async () => {
    const later = await h.request("POST", `/api/v1/deployments/${id}/subscription/change-plan`, {
      token: t.admin,
      body: { planCode: "scale", effective: "period_end" },
    });
    expect(later.status).toBe(200);
    expect(later.body.planVersion.planCode).toBe("studio");
    expect(later.body.pendingPlanVersion.planCode).toBe("scale");
    const now = await h.request("POST", `/api/v1/deployments/${id}/subscription/change-plan`, {
      token: t.admin,
      body: { planCode: "hobby", effective: "immediate" },
    });
    expect(now.status).toBe(200);
    expect(now.body.planVersion.planCode).toBe("hobby");
    expect(now.body.pendingPlanVersion).toBeNull();
    expect(now.body.planHistory.map((c: { kind: string }) => c.kind)).toEqual([
      "initial",
      "period_end",
      "immediate",
    ]);
    const doc = await h.request("GET", `/api/v1/deployments/${id}`, { token: t.viewer });
    expect(doc.body.subscription).toEqual(now.body);
  });
});
