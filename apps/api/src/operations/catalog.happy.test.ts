import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("catalog over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("lists the seeded plans and add-ons to any principal", async () => {
    const plans = await h.request("GET", "/api/v1/plans", { token: t.viewer });
    expect(plans.status).toBe(200);
    expect(plans.body.map((p: { code: string }) => p.code)).toEqual(["hobby", "scale", "studio"]);
    const studio = await h.request("GET", "/api/v1/plans/studio", { token: t.viewer });
    expect(studio.status).toBe(200);
    expect(studio.body.currentVersion).toMatchObject({ planCode: "studio", version: 1 });
    const addons = await h.request("GET", "/api/v1/addons", { token: t.viewer });
    expect(addons.status).toBe(200);
    expect(addons.body.length).toBeGreaterThan(0);
  });

  it("creates a plan, publishes a new version that becomes current, and keeps the old one", async () => {
    const created = await h.request("POST", "/api/v1/plans", {
      body: { code: "team", name: "Team", priceCents: 9900, trialDays: 7, includes: { storage: "20" } },
    });
    expect(created.status).toBe(201);
    expect(created.body.currentVersion).toMatchObject({
      version: 1,
      priceCents: 9900,
      currency: "AUD",
      trialDays: 7,
      includes: { storage: "20" },
    });
    const published = await h.request("POST", "/api/v1/plans/team/versions", { body: { priceCents: 10900 } });
    expect(published.status).toBe(201);
    expect(published.body.currentVersion).toMatchObject({ version: 2, priceCents: 10900 });
    expect(published.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const read = await h.request("GET", "/api/v1/plans/team", { token: t.admin });
    expect(read.body).toEqual(published.body);
  });

  it("creates an add-on and changes its live price and availability", async () => {
    const created = await h.request("POST", "/api/v1/addons", {
      body: { code: "backup_daily", name: "Daily backup", resourceKind: "backup", qty: "1", priceCents: 500 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: "backup_daily", qty: "1", priceCents: 500, active: true });
    const updated = await h.request("PATCH", "/api/v1/addons/backup_daily", {
      body: { priceCents: 700, active: false },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ priceCents: 700, active: false });
    const listed = await h.request("GET", "/api/v1/addons", { token: t.admin });
    expect(listed.body.find((a: { code: string }) => a.code === "backup_daily")).toMatchObject({
      priceCents: 700,
    });
  });
});
