import { runRolloverPass } from "@arcadia/db";
import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";
import { allOperations } from "./index.ts";

interface Route {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

describe.each(testBackends())("isolation and roles over REST on %s", (backend) => {
  let h: Harness;
  let a: TenantTokens;
  let b: TenantTokens;
  const ids: Record<string, string> = {};
  let routesOfA: Route[];

  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant();
    b = await h.tenant();
    ids.deployment = await h.deployment(a.admin, "secret", "Secret");
    const sub = await h.request("POST", `/api/v1/deployments/${ids.deployment}/subscribe`, {
      token: a.admin,
      body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
    });
    ids.attachment = sub.body.addons[0].id;
    const res = await h.request("POST", `/api/v1/deployments/${ids.deployment}/resources`, {
      body: { kind: "storage", providerRef: "vol-a", qty: "1" },
    });
    ids.resource = res.body.id;
    const d = ids.deployment;
    routesOfA = [
      { method: "GET", path: `/api/v1/deployments/${d}` },
      { method: "PATCH", path: `/api/v1/deployments/${d}`, body: { displayName: "pwned" } },
      { method: "POST", path: `/api/v1/deployments/${d}/transition`, body: { to: "cancelled" } },
      { method: "POST", path: `/api/v1/deployments/${d}/subscribe`, body: { planCode: "studio" } },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/subscription/addons`,
        body: { code: "storage_50gb" },
      },
      { method: "DELETE", path: `/api/v1/deployments/${d}/subscription/addons/${ids.attachment}` },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/subscription/change-plan`,
        body: { planCode: "scale", effective: "immediate" },
      },
      { method: "GET", path: `/api/v1/deployments/${d}/resources` },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/resources`,
        body: { kind: "storage", providerRef: "x", qty: "1" },
      },
      { method: "DELETE", path: `/api/v1/deployments/${d}/resources/${ids.resource}` },
      { method: "GET", path: `/api/v1/deployments/${d}/entitlements` },
      { method: "GET", path: `/api/v1/deployments/${d}/invoices` },
      { method: "GET", path: `/api/v1/deployments/${d}/invoices/upcoming` },
    ];
  });
  afterAll(() => h?.close());

  it("answers 404 NOT_FOUND to another tenant's admin and viewer on every route naming a deployment, changing nothing", async () => {
    for (const token of [b.admin, b.viewer]) {
      for (const route of routesOfA) {
        const r = await h.request(route.method, route.path, { token, body: route.body });
        expect([route.method, route.path, r.status, r.body.error?.code]).toEqual([
          route.method,
          route.path,
          404,
          "NOT_FOUND",
        ]);
      }
    }
    const doc = await h.request("GET", `/api/v1/deployments/${ids.deployment}`, { token: a.viewer });
    expect(doc.body.deployment).toMatchObject({ displayName: "Secret", state: "active" });
    expect(doc.body.subscription.planVersion.planCode).toBe("studio");
    expect(doc.body.subscription.addons.map((x: { detachedAt: string | null }) => x.detachedAt)).toEqual([
      null,
    ]);
  });

  it("hides another tenant's invoices, listed or fetched by id", async () => {
    await runRolloverPass(h.db.orm, { now: new Date(Date.now() + 62 * 86_400_000) });
    const own = await h.request("GET", "/api/v1/invoices", { token: a.viewer });
    expect(own.body.items.length).toBeGreaterThan(0);
    const invoiceId = own.body.items[0].id;
    expect((await h.request("GET", `/api/v1/invoices/${invoiceId}`, { token: a.viewer })).status).toBe(200);
    for (const token of [b.admin, b.viewer]) {
      const r = await h.request("GET", `/api/v1/invoices/${invoiceId}`, { token });
      expect([r.status, r.body.error.code]).toEqual([404, "NOT_FOUND"]);
      expect((await h.request("GET", "/api/v1/invoices", { token })).body.items).toEqual([]);
      expect(
        (await h.request("GET", `/api/v1/invoices?tenantId=${a.tenantId}`, { token })).body.items,
      ).toEqual([]);
    }
    const forOperator = await h.request("GET", `/api/v1/invoices?tenantId=${a.tenantId}`);
    expect(forOperator.body.items.map((s: { id: string }) => s.id)).toContain(invoiceId);
  });

  it("scopes lists to the caller's tenant, whatever filter is asked for", async () => {
    const mine = await h.request("GET", "/api/v1/deployments", { token: b.admin });
    expect(mine.body.items).toEqual([]);
    const sneaky = await h.request("GET", `/api/v1/deployments?tenantId=${a.tenantId}`, { token: b.admin });
    expect(sneaky.body.items).toEqual([]);
    const invoices = await h.request("GET", `/api/v1/invoices?deploymentId=${ids.deployment}`, {
      token: b.viewer,
    });
    expect(invoices.body.items).toEqual([]);
    const tokenForA = await h.request("POST", "/api/v1/tokens", {
      token: b.admin,
      body: { role: "tenant_admin", tenantId: a.tenantId, name: "x" },
    });
    expect(tokenForA.status).toBe(404);
    const opView = await h.request("GET", `/api/v1/deployments?tenantId=${a.tenantId}`);
    expect(opView.body.items.map((d: { id: string }) => d.id)).toEqual([ids.deployment]);
  });

  it("keeps viewers read-only on every write", async () => {
    const d = ids.deployment;
    const writes: Route[] = [
      {
        method: "POST",
        path: "/api/v1/deployments",
        body: { slug: "viewer-made", displayName: "V", region: "au-syd" },
      },
      { method: "PATCH", path: `/api/v1/deployments/${d}`, body: { displayName: "v" } },
      { method: "POST", path: `/api/v1/deployments/${d}/transition`, body: { to: "paused" } },
      { method: "POST", path: `/api/v1/deployments/${d}/subscribe`, body: { planCode: "studio" } },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/subscription/addons`,
        body: { code: "storage_50gb" },
      },
      { method: "DELETE", path: `/api/v1/deployments/${d}/subscription/addons/${ids.attachment}` },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/subscription/change-plan`,
        body: { planCode: "scale", effective: "immediate" },
      },
      { method: "POST", path: "/api/v1/tokens", body: { role: "tenant_viewer", name: "x" } },
    ];
    for (const route of writes) {
      const r = await h.request(route.method, route.path, { token: a.viewer, body: route.body });
      expect([route.path, r.status]).toEqual([route.path, 403]);
      expect(["FORBIDDEN", "TRANSITION_NOT_ALLOWED"]).toContain(r.body.error.code);
    }
    const doc = await h.request("GET", `/api/v1/deployments/${d}`, { token: a.viewer });
    expect(doc.body.deployment.state).toBe("active");
    expect(doc.body.events).toHaveLength(1);
  });

  it("refuses operator-only fields, catalog writes, resources, tenants and platform tokens to tenant admins", async () => {
    const d = ids.deployment;
    const operatorOnly: Route[] = [
      { method: "PATCH", path: `/api/v1/deployments/${d}`, body: { billingActionSuspended: true } },
      { method: "POST", path: "/api/v1/plans", body: { code: "cheap", name: "Cheap", priceCents: 1 } },
      { method: "POST", path: "/api/v1/plans/studio/versions", body: { priceCents: 1 } },
      {
        method: "POST",
        path: "/api/v1/addons",
        body: { code: "free_gpu", name: "GPU", resourceKind: "gpu", qty: "1", priceCents: 0 },
      },
      { method: "PATCH", path: "/api/v1/addons/storage_50gb", body: { priceCents: 1 } },
      {
        method: "POST",
        path: `/api/v1/deployments/${d}/resources`,
        body: { kind: "storage", providerRef: "x", qty: "1" },
      },
      { method: "DELETE", path: `/api/v1/deployments/${d}/resources/${ids.resource}` },
      { method: "POST", path: "/api/v1/tenants", body: { slug: "mine-now", name: "Mine" } },
      { method: "GET", path: "/api/v1/tenants" },
      { method: "POST", path: "/api/v1/tokens", body: { role: "platform_admin", name: "root" } },
      { method: "POST", path: `/api/v1/deployments/${d}/transition`, body: { to: "suspended" } },
    ];
    for (const route of operatorOnly) {
      const r = await h.request(route.method, route.path, { token: a.admin, body: route.body });
      expect([route.method, route.path, r.status]).toEqual([route.method, route.path, 403]);
    }
    const addon = await h.request("GET", "/api/v1/addons", { token: a.admin });
    expect(addon.body.find((x: { code: string }) => x.code === "storage_50gb").priceCents).toBe(750);
    const plan = await h.request("GET", "/api/v1/plans/studio", { token: a.admin });
    expect(plan.body.versions).toHaveLength(1);
  });

  it("answers 401 UNAUTHENTICATED on every operation without a valid token", async () => {
    for (const op of allOperations) {
      const path = `/api/v1${op.path.replace(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000")}`;
      for (const token of [null, "not-a-token"]) {
        const r = await h.request(op.method.toUpperCase(), path, {
          token,
          body: op.method === "get" || op.method === "delete" ? undefined : {},
        });
        expect([op.name, r.status, r.body.error.code]).toEqual([op.name, 401, "UNAUTHENTICATED"]);
      }
    }
  });

  it("stops honouring a revoked token", async () => {
    const issued = await h.request("POST", "/api/v1/tokens", {
      token: a.admin,
      body: { role: "tenant_viewer", name: "temp" },
    });
    expect(issued.status).toBe(201);
    expect((await h.request("GET", "/api/v1/deployments", { token: issued.body.token })).status).toBe(200);
    const revoked = await h.request("DELETE", `/api/v1/tokens/${issued.body.id}`, { token: a.admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(revoked.body.token).toBeUndefined();
    expect((await h.request("GET", "/api/v1/deployments", { token: issued.body.token })).status).toBe(401);
  });
});
