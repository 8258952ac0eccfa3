import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upcomingInvoice } from "../billing/invoices.ts";
import { createAddon, createPlan, publishPlanVersion, updateAddon } from "../catalog/catalog.ts";
import { createDeployment, transitionDeployment } from "../deployments/deployments.ts";
import { presentSubscription } from "../presenters/presenters.ts";
import { entitlements, listResources, registerResource, releaseResource } from "../resources/resources.ts";
import {
  codeOf,
  createTestDatabase,
  deploymentDocument,
  operator,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { attachAddon, changePlan, detachAddon, subscribe } from "./subscriptions.ts";

describe.each(testBackends({ pooled: true }))("subscriptions on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-16T00:00:00.000Z"));
  let a: TenantFixture;
  let b: TenantFixture;
  const ctx = () => testContext(db.orm, clock);
  let n = 0;
  const newDeployment = async (extra: object = {}) =>
    (
      await createDeployment(ctx(), a.admin, {
        slug: `app-${++n}`,
        displayName: "App",
        region: "au-mel",
        ...extra,
      })
    ).deployment;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    a = await tenantFixture(db.orm, clock);
    b = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  it("subscribes to the current plan version with add-ons snapshotted, for the current calendar month", async () => {
    const deployment = await newDeployment();
    const doc = await subscribe(ctx(), a.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    expect(doc.subscription).toMatchObject({ status: "active", trialEndsAt: null, pendingPlanVersion: null });
    expect(doc.subscription.planVersion).toMatchObject({
      version: 1,
      priceCents: 4900,
      currency: "AUD",
      trialDays: 14,
    });
    expect(doc.subscription.planVersion.plan.code).toBe("studio");
    expect(doc.subscription.currentPeriodStart.toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(doc.subscription.currentPeriodEnd.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(doc.addons).toHaveLength(1);
    expect(doc.addons[0]).toMatchObject({
      addonCode: "storage_50gb",
      resourceKind: "storage",
      qty: "50",
      priceCents: 750,
      currency: "AUD",
      detachedAt: null,
    });
    expect(doc.planChanges.map((c) => c.kind)).toEqual(["initial"]);
    // What subscribe returns is exactly what it wrote.
    expect((await deploymentDocument(ctx(), a.admin, deployment.id)).subscription).toEqual(
      presentSubscription(doc),
    );
  });

  it("writes every requested add-on, duplicates included, and returns the rows as stored", async () => {
    const deployment = await newDeployment();
    const codes = ["compute_2vcpu", "storage_50gb", "compute_2vcpu"];
    const doc = await subscribe(ctx(), a.admin, deployment.id, {
      planCode: "studio",
      planVersion: 1,
      addons: codes.map((code) => ({ code })),
    });
    expect(doc.addons.map((x) => x.addonCode)).toEqual(codes);
    const stored = (await deploymentDocument(ctx(), a.admin, deployment.id)).subscription!;
    const written = presentSubscription(doc);
    const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
    expect([...stored.addons].sort(byId)).toEqual([...written.addons].sort(byId));
    expect({ ...stored, addons: [] }).toEqual({ ...written, addons: [] });
  });

  it("keeps every snapshot when the live add-on price changes later", async () => {
    const deployment = await newDeployment();
    await subscribe(ctx(), a.admin, deployment.id, { planCode: "studio" });
    const before = await attachAddon(ctx(), a.admin, deployment.id, "compute_2vcpu");
    await updateAddon(ctx(), operator, "compute_2vcpu", { priceCents: 2600 });
    const after = await attachAddon(ctx(), a.admin, deployment.id, "compute_2vcpu");
    const doc = await deploymentDocument(ctx(), a.admin, deployment.id);
    const prices = Object.fromEntries(doc.subscription!.addons.map((x) => [x.id, x.priceCents]));
    expect(prices[before.id]).toBe(2000);
    expect(prices[after.id]).toBe(2600);
    await updateAddon(ctx(), operator, "compute_2vcpu", { priceCents: 2000 });
  });

  it("refuses a second subscription, unknown plans and add-ons, and cancelled deployments", async () => {
    const deployment = await newDeployment();
    await subscribe(ctx(), a.admin, deployment.id, { planCode: "hobby" });
    expect(await codeOf(subscribe(ctx(), a.admin, deployment.id, { planCode: "hobby" }))).toBe(
      "ALREADY_SUBSCRIBED",
    );
    const other = await newDeployment();
    expect(await codeOf(subscribe(ctx(), a.admin, other.id, { planCode: "nope" }))).toBe("UNKNOWN_PLAN");
    expect(await codeOf(subscribe(ctx(), a.admin, other.id, { planCode: "studio", planVersion: 99 }))).toBe(
      "UNKNOWN_PLAN",
    );
    expect(
      await codeOf(subscribe(ctx(), a.admin, other.id, { planCode: "studio", addons: [{ code: "nope" }] })),
    ).toBe("UNKNOWN_ADDON");
    expect((await deploymentDocument(ctx(), a.admin, other.id)).subscription).toBeNull(); // nothing half-done
    await transitionDeployment(ctx(), a.admin, other.id, { to: "cancelled" });
    expect(await codeOf(subscribe(ctx(), a.admin, other.id, { planCode: "studio" }))).toBe(
      "DEPLOYMENT_NOT_SUBSCRIBABLE",
    );
    expect(await codeOf(subscribe(ctx(), a.viewer, deployment.id, { planCode: "studio" }))).toBe("FORBIDDEN");
    expect(await codeOf(subscribe(ctx(), b.admin, deployment.id, { planCode: "studio" }))).toBe("NOT_FOUND");
  });

  it("lets exactly one of racing subscribes win", async () => {
    const deployment = await newDeployment();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        codeOf(subscribe(ctx(), a.admin, deployment.id, { planCode: "studio" })),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "ALREADY_SUBSCRIBED")).toHaveLength(5);
  });

  it("sets trialEndsAt for a trial deployment and mirrors pause, resume and cancel", async () => {
    const deployment = await newDeployment({ trial: true });
    const doc = await subscribe(ctx(), a.admin, deployment.id, { planCode: "scale" });
    expect(doc.subscription.trialEndsAt?.toISOString()).toBe("2026-11-30T00:00:00.000Z");
    await transitionDeployment(ctx(), a.admin, deployment.id, { to: "active" });
    await transitionDeployment(ctx(), a.admin, deployment.id, { to: "paused" });
    expect((await deploymentDocument(ctx(), a.admin, deployment.id)).subscription!.status).toBe("paused");
    await transitionDeployment(ctx(), a.admin, deployment.id, { to: "active" });
    expect((await deploymentDocument(ctx(), a.admin, deployment.id)).subscription!.status).toBe("active");
    await transitionDeployment(ctx(), a.admin, deployment.id, { to: "cancelled" });
    const cancelled = (await deploymentDocument(ctx(), a.admin, deployment.id)).subscription!;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.cancelledAt).toBe(clock.now().toISOString());
    expect(await codeOf(attachAddon(ctx(), a.admin, deployment.id, "storage_50gb"))).toBe(
      "DEPLOYMENT_NOT_SUBSCRIBABLE",
    );
  });

  it("detaches an add-on, keeping it for history", async () => {
    const deployment = await newDeployment();
    await subscribe(ctx(), a.admin, deployment.id, { planCode: "studio" });
    const attachment = await attachAddon(ctx(), a.admin, deployment.id, "storage_50gb");
    clock.advance(60_000);
    await detachAddon(ctx(), a.admin, deployment.id, attachment.id);
    const addons = (await deploymentDocument(ctx(), a.admin, deployment.id)).subscription!.addons;
    expect(addons).toHaveLength(1);
    expect(addons[0]!.detachedAt).toBe(clock.now().toISOString());
    expect(await codeOf(detachAddon(ctx(), a.admin, deployment.id, attachment.id))).toBe("CONFLICT");
    expect(
      await codeOf(detachAddon(ctx(), a.admin, deployment.id, "00000000-0000-4000-8000-000000000000")),
    ).toBe("NOT_FOUND");
  });

  it("changes plan immediately or at period end, keeping the history, and refuses another currency", async () => {
    const deployment = await newDeployment();
    await subscribe(ctx(), a.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    clock.advance(1000);
    const scheduled = await changePlan(ctx(), a.admin, deployment.id, {
      planCode: "scale",
      effective: "period_end",
    });
    expect(scheduled.subscription.planVersion.plan.code).toBe("studio");
    expect(scheduled.subscription.pendingPlanVersion?.plan.code).toBe("scale");
    clock.advance(1000);
    const now = await changePlan(ctx(), a.admin, deployment.id, {
      planCode: "hobby",
      effective: "immediate",
    });
    expect(now.subscription.planVersion.plan.code).toBe("hobby");
    expect(now.subscription.pendingPlanVersion).toBeNull();
    expect(
      now.planChanges.map((c) => [
        c.kind,
        c.fromPlanVersion?.plan.code ?? null,
        c.toPlanVersion.plan.code,
        c.supersededAt !== null,
      ]),
    ).toEqual([
      ["initial", null, "studio", false],
      ["period_end", "studio", "scale", true],
      ["immediate", "studio", "hobby", false],
    ]);
    expect(now.addons.map((x) => x.priceCents)).toEqual([750]);
    await createPlan(ctx(), operator, {
      code: "usd_pro",
      name: "USD Pro",
      priceCents: 5000,
      currency: "USD",
    });
    expect(
      await codeOf(
        changePlan(ctx(), a.admin, deployment.id, { planCode: "usd_pro", effective: "immediate" }),
      ),
    ).toBe("CURRENCY_MISMATCH");
    expect(await codeOf(attachAddonInCurrency(deployment.id))).toBe("CURRENCY_MISMATCH");
  });

  async function attachAddonInCurrency(deploymentId: string) {
    await createAddon(ctx(), operator, {
      code: "usd_storage",
      name: "USD storage",
      resourceKind: "storage",
      qty: "10",
      priceCents: 100,
      currency: "USD",
    });
    return attachAddon(ctx(), a.admin, deploymentId, "usd_storage");
  }

  it("publishes immutable plan versions; new subscribers get the newest, existing ones keep theirs", async () => {
    const early = await newDeployment();
    await subscribe(ctx(), a.admin, early.id, { planCode: "scale" });
    const plan = await publishPlanVersion(ctx(), operator, "scale", {
      priceCents: 24900,
      includes: { storage: "200", compute: "8" },
    });
    expect(plan.versions.map((v) => [v.version, v.priceCents])).toEqual([
      [1, 19900],
      [2, 24900],
    ]);
    const late = await newDeployment();
    const lateDoc = await subscribe(ctx(), a.admin, late.id, { planCode: "scale" });
    expect(lateDoc.subscription.planVersion.version).toBe(2);
    const pinned = await newDeployment();
    expect(
      (await subscribe(ctx(), a.admin, pinned.id, { planCode: "scale", planVersion: 1 })).subscription
        .planVersion.version,
    ).toBe(1);
    expect((await deploymentDocument(ctx(), a.admin, early.id)).subscription!.planVersion.priceCents).toBe(
      19900,
    );
    expect(await codeOf(publishPlanVersion(ctx(), a.admin, "scale", { priceCents: 1 }))).toBe("FORBIDDEN");
  });

  it("projects the upcoming invoice from the same function the worker uses", async () => {
    const deployment = await newDeployment(); // created 2026-11-16 (or later): bills the rest of November
    await subscribe(ctx(), a.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    const subscribedAt = clock.now().getTime();
    const upcoming = await upcomingInvoice(ctx(), a.viewer, deployment.id);
    const periodMs = 30 * 86_400_000;
    const billableMs = Date.parse("2026-12-01T00:00:00Z") - subscribedAt;
    expect(upcoming.lines.map((l) => [l.kind, l.billableMs, l.periodMs])).toEqual([
      ["plan", billableMs, periodMs],
      ["addon", billableMs, periodMs],
    ]);
    expect(upcoming.totalCents).toBe(upcoming.lines.reduce((s, l) => s + l.amountCents, 0));
    expect(await codeOf(upcomingInvoice(ctx(), b.viewer, deployment.id))).toBe("NOT_FOUND");
  });

  it("tracks cloud resources against entitlements", async () => {
    const deployment = await newDeployment();
    await subscribe(ctx(), a.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    const disk = await registerResource(ctx(), operator, deployment.id, {
      kind: "storage",
      providerRef: "vol-1",
      qty: "12.5",
    });
    await registerResource(ctx(), operator, deployment.id, {
      kind: "compute",
      providerRef: "vm-1",
      qty: "2",
    });
    expect(await entitlements(ctx(), a.viewer, deployment.id)).toEqual([
      { kind: "compute", included: "1", used: "2", remaining: "-1" },
      { kind: "storage", included: "60", used: "12.5", remaining: "47.5" },
    ]);
    await releaseResource(ctx(), operator, deployment.id, disk.id);
    expect((await entitlements(ctx(), a.viewer, deployment.id)).find((e) => e.kind === "storage")).toEqual({
      kind: "storage",
      included: "60",
      used: "0",
      remaining: "60",
    });
    expect(
      (await listResources(ctx(), a.viewer, deployment.id)).map((r) => [
        r.providerRef,
        r.releasedAt !== null,
      ]),
    ).toEqual([
      ["vol-1", true],
      ["vm-1", false],
    ]);
    expect(
      await codeOf(
        registerResource(ctx(), a.admin, deployment.id, { kind: "storage", providerRef: "x", qty: "1" }),
      ),
    ).toBe("FORBIDDEN");
    expect(await codeOf(releaseResource(ctx(), operator, deployment.id, disk.id))).toBe("CONFLICT");
    expect(await codeOf(listResources(ctx(), b.viewer, deployment.id))).toBe("NOT_FOUND");
  });
});
