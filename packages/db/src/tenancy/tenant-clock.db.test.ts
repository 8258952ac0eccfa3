import { DeploymentEvent, Tenant } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDeploymentInvoices } from "../billing/invoices.ts";
import { runRolloverPass } from "../billing/rollover.ts";
import {
  createDeployment,
  findVisibleDeployment,
  loadSubscriptionDocument,
  transitionDeployment,
  updateDeployment,
} from "../deployments/deployments.ts";
import { registerResource, releaseResource } from "../resources/resources.ts";
import { attachAddon, changePlan, detachAddon, subscribe } from "../subscriptions/subscriptions.ts";
import {
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
import { createTenant } from "./tenants.ts";

const at = (iso: string) => new Date(iso);

describe.each(testBackends())("per-tenant clocks on %s", (backend) => {
  let db: TestDatabase;
  // The wall clock of these tests; the sandbox lives months away from it.
  const wall = new TestClock(at("2026-11-16T10:00:00.000Z"));
  const frozenAt = at("2030-03-10T12:00:00.000Z");
  let sandbox: TenantFixture;
  let ordinary: TenantFixture;
  const ctx = () => testContext(db.orm, wall);
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    sandbox = await tenantFixture(db.orm, wall, { testClock: frozenAt });
    ordinary = await tenantFixture(db.orm, wall);
  });
  afterAll(() => db?.close());

  async function everyWrite(t: TenantFixture) {
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug: `app-${++n}`,
      displayName: "App",
      region: "au-syd",
    });
    await subscribe(ctx(), t.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    await transitionDeployment(ctx(), t.admin, deployment.id, { to: "paused" });
    await transitionDeployment(ctx(), t.admin, deployment.id, { to: "active" });
    await changePlan(ctx(), t.admin, deployment.id, { planCode: "scale", effective: "immediate" });
    await changePlan(ctx(), t.admin, deployment.id, { planCode: "hobby", effective: "period_end" });
    const attachment = await attachAddon(ctx(), t.admin, deployment.id, "compute_2vcpu");
    await detachAddon(ctx(), t.admin, deployment.id, attachment.id);
    await updateDeployment(ctx(), t.admin, deployment.id, { displayName: "Renamed" });
    const resource = await registerResource(ctx(), operator, deployment.id, {
      kind: "storage",
      providerRef: "vol-1",
      qty: "5",
    });
    const released = await releaseResource(ctx(), operator, deployment.id, resource.id);
    // Every instant the writes stored, loaded as entities (updatedAt included, which no answer shows).
    const em = db.orm.em.fork();
    const stored = await findVisibleDeployment(em, operator, deployment.id);
    const events = await em.find(DeploymentEvent, { deploymentId: deployment.id });
    const sub = (await loadSubscriptionDocument(em, deployment.id))!;
    return {
      deployment: stored,
      instants: [
        stored.createdAt,
        stored.updatedAt,
        ...events.map((e) => e.occurredAt),
        sub.subscription.createdAt,
        sub.subscription.updatedAt,
        ...sub.planChanges.map((c) => c.requestedAt),
        ...sub.addons.map((a) => a.attachedAt),
        ...sub.addons.flatMap((a) => (a.detachedAt ? [a.detachedAt] : [])),
        resource.createdAt,
        released.releasedAt!,
      ].map((d) => d.toISOString()),
      subscription: sub.subscription,
    };
  }

  it("a sandbox's data carries its clock's time in every use case; an ordinary tenant's the wall clock", async () => {
    const inSandbox = await everyWrite(sandbox);
    expect(new Set(inSandbox.instants)).toEqual(new Set([frozenAt.toISOString()]));
    // The period is the clock's month, not the wall clock's.
    expect(inSandbox.subscription.currentPeriodStart.toISOString()).toBe("2030-03-01T00:00:00.000Z");

    const inOrdinary = await everyWrite(ordinary);
    expect(new Set(inOrdinary.instants)).toEqual(new Set([wall.now().toISOString()]));
    expect(inOrdinary.subscription.currentPeriodStart.toISOString()).toBe("2026-11-01T00:00:00.000Z");
  });

  it("a sandbox is created with its clock and shows as one", async () => {
    const tenant = await db.orm.em.fork().findOneOrFail(Tenant, { id: sandbox.tenantId });
    expect(tenant).toMatchObject({ sandbox: true, clockFrozenAt: frozenAt });
    const plain = await db.orm.em.fork().findOneOrFail(Tenant, { id: ordinary.tenantId });
    expect(plain).toMatchObject({ sandbox: false, clockFrozenAt: null });
  });

  it("the database refuses a sandbox without a clock and an ordinary tenant with one", async () => {
    const write = (sql: string) => db.orm.em.fork().execute(sql, [sandbox.tenantId]);
    await expect(write("update tenants set clock_frozen_at = null where id = ?")).rejects.toThrow(
      /tenants_clock_check/,
    );
    await expect(write("update tenants set sandbox = false where id = ?")).rejects.toThrow(
      /tenants_clock_check/,
    );
    const slug = `c-${++n}`;
    const made = await createTenant(ctx(), operator, { slug, name: "C" });
    await expect(
      db.orm.em.fork().execute("update tenants set clock_frozen_at = now() where id = ?", [made.id]),
    ).rejects.toThrow(/tenants_clock_check/);
  });

  it("the real-time worker leaves a sandbox's trials and periods alone, however late it runs", async () => {
    const trialOf = async (t: TenantFixture) => {
      const { deployment } = await createDeployment(ctx(), t.admin, {
        slug: `trial-${++n}`,
        displayName: "Trial",
        region: "au-syd",
        trial: true,
      });
      await subscribe(ctx(), t.admin, deployment.id, { planCode: "studio" });
      return deployment.id;
    };
    const sandboxed = await trialOf(sandbox);
    const plain = await trialOf(ordinary);
    const summary = await runRolloverPass(db.orm, { now: at("2032-01-01T00:00:00Z") });
    expect(summary.trialsConverted).toBeGreaterThanOrEqual(1);

    const sandboxDoc = await deploymentDocument(ctx(), operator, sandboxed);
    expect(sandboxDoc.deployment.state).toBe("trial");
    expect(sandboxDoc.subscription!.currentPeriodStart).toBe("2030-03-01T00:00:00.000Z");
    expect((await listDeploymentInvoices(ctx(), operator, sandboxed, {})).items).toEqual([]);

    const plainDoc = await deploymentDocument(ctx(), operator, plain);
    expect(plainDoc.deployment.state).toBe("active");
    expect((await listDeploymentInvoices(ctx(), operator, plain, {})).items.length).toBeGreaterThan(0);
  });
});
