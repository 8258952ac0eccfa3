import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends({ pooled: true }))("deployments over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("runs the seed's smoke scenario end to end", async () => {
    const created = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "smoke", displayName: "Smoke test", region: "au-syd" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug: "smoke",
      state: "active",
      llmMode: "shared",
      tenantId: t.tenantId,
      billingActionSuspended: false,
    });
    const id = created.body.id;

    const paused = await h.request("POST", `/api/v1/deployments/${id}/transition`, {
      token: t.admin,
      body: { to: "paused", reason: "maintenance" },
    });
    expect(paused.status).toBe(200);
    expect(paused.body.deployment.state).toBe("paused");
    expect(paused.body.event).toMatchObject({
      sequence: 2,
      fromState: "active",
      toState: "paused",
      reason: "maintenance",
      actor: { type: "principal", role: "tenant_admin" },
    });

    const archived = await h.request("POST", `/api/v1/deployments/${id}/transition`, {
      token: t.admin,
      body: { to: "archived" },
    });
    expect(archived.status).toBe(422);
    expect(archived.body.error).toMatchObject({
      code: "INVALID_TRANSITION",
      details: { from: "paused", to: "archived" },
    });

    const subscribed = await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
    });
    expect(subscribed.status).toBe(201);
    expect(subscribed.body.planVersion).toMatchObject({
      planCode: "studio",
      version: 1,
      priceCents: 4900,
      currency: "AUD",
    });
    expect(subscribed.body.status).toBe("paused");
    expect(subscribed.body.addons).toHaveLength(1);
    expect(subscribed.body.addons[0]).toMatchObject({
      addonCode: "storage_50gb",
      priceCents: 750,
      qty: "50",
      resourceKind: "storage",
      detachedAt: null,
    });

    const doc = await h.request("GET", `/api/v1/deployments/${id}`, { token: t.viewer });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body).sort()).toEqual(["deployment", "events", "subscription"]);
    expect(doc.body.deployment.state).toBe("paused");
    expect(doc.body.subscription.addons[0].priceCents).toBe(750);
    expect(
      doc.body.events.map((e: { sequence: number; toState: string }) => [e.sequence, e.toState]),
    ).toEqual([
      [1, "active"],
      [2, "paused"],
    ]);
    expect(doc.body.events[0].fromState).toBeNull();
  });

  it("leaves existing snapshots untouched by a live add-on price change", async () => {
    const dep = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "snap", displayName: "Snap", region: "eu-fra" },
    });
    await h.request("POST", `/api/v1/deployments/${dep.body.id}/subscribe`, {
      token: t.admin,
      body: { planCode: "scale", addons: [{ code: "llm_tokens_1m" }] },
    });
    const patched = await h.request("PATCH", "/api/v1/addons/llm_tokens_1m", { body: { priceCents: 1800 } });
    expect(patched.status).toBe(200);
    expect(patched.body.priceCents).toBe(1800);
    const attached = await h.request("POST", `/api/v1/deployments/${dep.body.id}/subscription/addons`, {
      token: t.admin,
      body: { code: "llm_tokens_1m" },
    });
    expect(attached.status).toBe(201);
    expect(attached.body.priceCents).toBe(1800);
    const doc = await h.request("GET", `/api/v1/deployments/${dep.body.id}`, { token: t.admin });
    expect(doc.body.subscription.addons.map((a: { priceCents: number }) => a.priceCents)).toEqual([
      1500, 1800,
    ]);
    await h.request("PATCH", "/api/v1/addons/llm_tokens_1m", { body: { priceCents: 1500 } });
  });

  it("creates trial deployments, lists with a cursor and filters by state", async () => {
    for (const slug of ["list-a", "list-b", "list-c"]) {
      const r = await h.request("POST", "/api/v1/deployments", {
        token: t.admin,
        body: { slug, displayName: slug, region: "us-iad", trial: true, llmMode: "none" },
      });
      expect(r.body).toMatchObject({ state: "trial", llmMode: "none" });
    }
    const first = await h.request("GET", "/api/v1/deployments?limit=2&state=trial", { token: t.viewer });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await h.request(
      "GET",
      `/api/v1/deployments?limit=2&state=trial&cursor=${first.body.nextCursor}`,
      { token: t.viewer },
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((d: { slug: string }) => d.slug)).toEqual([
      "list-a",
      "list-b",
      "list-c",
    ]);
  });

  it("attaches, detaches, changes plan, shows entitlements, resources and the upcoming invoice", async () => {
    const dep = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "full", displayName: "Full", region: "ap-sgp" },
    });
    const id = dep.body.id;
    await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio" },
    });
    const att = await h.request("POST", `/api/v1/deployments/${id}/subscription/addons`, {
      token: t.admin,
      body: { code: "compute_2vcpu" },
    });
    const detached = await h.request(
      "DELETE",
      `/api/v1/deployments/${id}/subscription/addons/${att.body.id}`,
      { token: t.admin },
    );
    expect(detached.status).toBe(200);
    expect(detached.body.detachedAt).not.toBeNull();
    const changed = await h.request("POST", `/api/v1/deployments/${id}/subscription/change-plan`, {
      token: t.admin,
      body: { planCode: "scale", effective: "period_end" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.pendingPlanVersion.planCode).toBe("scale");
    expect(changed.body.planHistory.map((c: { kind: string }) => c.kind)).toEqual(["initial", "period_end"]);
    const res = await h.request("POST", `/api/v1/deployments/${id}/resources`, {
      body: { kind: "storage", providerRef: "vol-9", qty: "4.5" },
    });
    expect(res.status).toBe(201);
    const ent = await h.request("GET", `/api/v1/deployments/${id}/entitlements`, { token: t.viewer });
    expect(ent.body).toContainEqual({ kind: "storage", included: "10", used: "4.5", remaining: "5.5" });
    const list = await h.request("GET", `/api/v1/deployments/${id}/resources`, { token: t.viewer });
    expect(list.body.map((r: { providerRef: string }) => r.providerRef)).toEqual(["vol-9"]);
    const released = await h.request("DELETE", `/api/v1/deployments/${id}/resources/${res.body.id}`);
    expect(released.body.releasedAt).not.toBeNull();
    const upcoming = await h.request("GET", `/api/v1/deployments/${id}/invoices/upcoming`, {
      token: t.viewer,
    });
    expect(upcoming.status).toBe(200);
    expect(upcoming.body).toMatchObject({ status: "upcoming", currency: "AUD", deploymentId: id });
    expect(upcoming.body.lines[0]).toMatchObject({ kind: "plan", unitPriceCents: 4900 });
    const invoices = await h.request("GET", `/api/v1/deployments/${id}/invoices`, { token: t.viewer });
    expect(invoices.body).toEqual({ items: [], nextCursor: null });
  });

  it("serves health, readiness, the OpenAPI document and the docs page without a token", async () => {
    expect((await h.request("GET", "/healthz", { token: null })).body).toEqual({ status: "ok" });
    expect((await h.request("GET", "/readyz", { token: null })).status).toBe(200);
    const doc = await h.request("GET", "/api/v1/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    const page = await h.request("GET", "/docs", { token: null });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain("/api/v1/openapi.json");
  });
});
