import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeployment, transitionDeployment, updateDeployment } from "../deployments/deployments.ts";
import { connect, poolingOf } from "../orm.ts";
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
import { listDeploymentInvoices } from "./invoices.ts";
import { runRolloverPass } from "./rollover.ts";

const at = (iso: string) => new Date(iso);

describe.each(testBackends({ pooled: true }))("billing rollover on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(at("2026-11-01T00:00:00Z"));
  let t: TenantFixture;
  const ctx = () => testContext(db.orm, clock);
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    t = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  async function deploymentAt(iso: string, opts: { trial?: boolean; plan?: string; addons?: string[] } = {}) {
    clock.set(iso);
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug: `d-${++n}`,
      displayName: "D",
      region: "au-syd",
      trial: opts.trial,
    });
    await subscribe(ctx(), t.admin, deployment.id, {
      planCode: opts.plan ?? "studio",
      addons: (opts.addons ?? []).map((code) => ({ code })),
    });
    return deployment.id;
  }

  async function transition(id: string, iso: string, to: "paused" | "active" | "cancelled") {
    clock.set(iso);
    await transitionDeployment(ctx(), t.admin, id, { to });
  }

  async function invoices(id: string) {
    const page = await listDeploymentInvoices(ctx(), operator, id, { limit: 200 });
    return page.items.map(({ invoice, lines }) => ({
      period: invoice.periodStart.toISOString().slice(0, 7),
      total: invoice.totalCents,
      lines: lines.map((l) => [l.kind, l.amountCents]),
      number: invoice.number,
    }));
  }

  // Scenario deployments, set up before any pass runs.
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    ids.midMonth = await deploymentAt("2026-11-16T00:00:00Z");
    ids.pause = await deploymentAt("2026-11-01T00:00:00Z");
    await transition(ids.pause, "2026-11-11T00:00:00Z", "paused");
    await transition(ids.pause, "2026-11-21T00:00:00Z", "active");
    ids.addon = await deploymentAt("2026-11-01T00:00:00Z");
    clock.set("2026-11-06T00:00:00Z");
    const attachment = await attachAddon(ctx(), t.admin, ids.addon, "storage_50gb");
    clock.set("2026-11-21T00:00:00Z");
    await detachAddon(ctx(), t.admin, ids.addon, attachment.id);
    ids.immediate = await deploymentAt("2026-11-01T00:00:00Z");
    clock.set("2026-11-11T00:00:00Z");
    await changePlan(ctx(), t.admin, ids.immediate, { planCode: "scale", effective: "immediate" });
    ids.periodEnd = await deploymentAt("2026-11-01T00:00:00Z");
    clock.set("2026-11-20T00:00:00Z");
    await changePlan(ctx(), t.admin, ids.periodEnd, { planCode: "scale", effective: "period_end" });
    ids.cancelled = await deploymentAt("2026-11-01T00:00:00Z");
    await transition(ids.cancelled, "2026-11-16T00:00:00Z", "cancelled");
    ids.trial = await deploymentAt("2026-11-01T00:00:00Z", { trial: true });
    ids.hobby = await deploymentAt("2026-11-01T00:00:00Z", { plan: "hobby" });
    ids.override = await deploymentAt("2026-11-01T00:00:00Z", { trial: true });
    clock.set("2026-11-02T00:00:00Z");
    await updateDeployment(ctx(), operator, ids.override, { billingActionSuspended: true });
  });

  it("closes November for every scenario with the prorated amounts", async () => {
    const summary = await runRolloverPass(db.orm, { now: at("2026-12-01T00:00:00Z"), batchSize: 3 });
    expect(summary.trialsConverted).toBe(1);
    expect(summary.skippedByOverride).toBe(1);
    expect(summary.batches).toBe(3);

    expect((await invoices(ids.midMonth!))[0]).toMatchObject({ period: "2026-11", total: 2450 }); // 15/30 of 4900
    expect((await invoices(ids.pause!))[0]).toMatchObject({ period: "2026-11", total: 3267 }); // 20/30 of 4900 = 3266.67
    expect((await invoices(ids.addon!))[0]).toMatchObject({
      total: 5275,
      lines: [
        ["plan", 4900],
        ["addon", 375],
      ],
    });
    expect((await invoices(ids.immediate!))[0]).toMatchObject({
      total: 14900,
      lines: [
        ["plan", 1633],
        ["plan", 13267],
      ],
    });
    expect((await invoices(ids.periodEnd!))[0]).toMatchObject({ total: 4900, lines: [["plan", 4900]] });
    expect((await invoices(ids.cancelled!))[0]).toMatchObject({ total: 2450 }); // 15/30 of 4900
    expect((await invoices(ids.trial!))[0]).toMatchObject({ total: 2613 }); // trial ended 11-15: 16/30 of 4900 = 2613.33
    expect((await invoices(ids.hobby!))[0]).toMatchObject({ total: 0, lines: [["plan", 0]] });
    expect((await invoices(ids.override!))[0]).toMatchObject({ total: 0, lines: [] }); // still in trial

    const trial = await deploymentDocument(ctx(), operator, ids.trial!);
    expect(trial.deployment.state).toBe("active");
    expect(trial.events.at(-1)).toMatchObject({
      fromState: "trial",
      toState: "active",
      actor: { type: "system", id: "billing-worker" },
      occurredAt: "2026-11-15T00:00:00.000Z",
    });
    expect((await deploymentDocument(ctx(), operator, ids.override!)).deployment.state).toBe("trial");

    const periodEnd = await deploymentDocument(ctx(), operator, ids.periodEnd!);
    expect(periodEnd.subscription!.planVersion.planCode).toBe("scale");
    expect(periodEnd.subscription!.pendingPlanVersion).toBeNull();
    expect(periodEnd.subscription!.currentPeriodStart).toBe("2026-12-01T00:00:00.000Z");
    const cancelled = await deploymentDocument(ctx(), operator, ids.cancelled!);
    expect(cancelled.subscription!.endedAt).toBe("2026-12-01T00:00:00.000Z");
  });

  it("issues nothing new on a rerun at the same instant", async () => {
    const again = await runRolloverPass(db.orm, { now: at("2026-12-01T00:00:00Z") });
    expect(again).toMatchObject({ invoicesIssued: 0, subscriptionsProcessed: 0, trialsConverted: 0 });
  });

  it("catches up across December→January and February, applying the pending change and stopping a cancelled subscription", async () => {
    const late = await deploymentAt("2026-12-10T00:00:00Z");
    const summary = await runRolloverPass(db.orm, { now: at("2027-03-02T00:00:00Z") });
    expect(summary.invoicesIssued).toBeGreaterThan(0);
    expect((await invoices(late)).map((s) => [s.period, s.total])).toEqual([
      ["2026-12", 3477], // 22/31 of 4900 = 3477.42
      ["2027-01", 4900],
      ["2027-02", 4900], // 28 days, full month
    ]);
    expect((await invoices(ids.periodEnd!)).map((s) => [s.period, s.total])).toEqual([
      ["2026-11", 4900],
      ["2026-12", 19900],
      ["2027-01", 19900],
      ["2027-02", 19900],
    ]);
    expect((await invoices(ids.cancelled!)).map((s) => s.period)).toEqual(["2026-11"]);
    const doc = await deploymentDocument(ctx(), operator, late);
    expect(doc.subscription!.currentPeriodStart).toBe("2027-03-01T00:00:00.000Z");
    const numbers = (await invoices(late)).map((s) => s.number);
    expect(numbers.every((x) => /^INV-T-[0-9A-F]{8}-\d{6}$/.test(x))).toBe(true);
    // Per tenant, consecutive from 1, no gaps (SPEC §3.5).
    const all = await db.orm.em
      .fork()
      .getConnection()
      .execute("select number from statements where tenant_id = ? order by number", [t.tenantId]);
    const serials = all.map((r) => Number(String(r.number).slice(-6)));
    expect(serials).toEqual(serials.map((_: number, i: number) => i + 1));
    const totals = summary.totalsByCurrency.AUD;
    expect(Number.isInteger(totals)).toBe(true);
  });

  it.runIf(backend !== "embedded")(
    "lets racing workers issue exactly one invoice per subscription and period",
    async () => {
      clock.set("2027-03-05T00:00:00Z");
      for (let i = 0; i < 40; i++)
        await deploymentAt("2027-03-05T00:00:00Z", { addons: ["storage_50gb", "compute_2vcpu"] });
      const workers = await Promise.all(
        [1, 2, 3, 4].map(() => connect({ url: db.url, pooling: poolingOf(db.orm), poolSize: 2 })),
      );
      try {
        const results = await Promise.all(
          workers.map((orm) => runRolloverPass(orm, { now: at("2027-06-01T00:00:00Z"), batchSize: 7 })),
        );
        const issued = results.reduce((s, r) => s + r.invoicesIssued, 0);
        const rows = await db.orm.em
          .getConnection()
          .execute(
            "select count(*)::int as n, count(distinct (subscription_id, period_start))::int as d from statements",
          );
        expect(rows[0]!.n).toBe(rows[0]!.d);
        const due = await db.orm.em
          .getConnection()
          .execute(
            "select count(*)::int as n from subscriptions where ended_at is null and current_period_end <= '2027-06-01'",
          );
        expect(due[0]!.n).toBe(0);
        expect(issued).toBeGreaterThanOrEqual(40 * 3);
      } finally {
        await Promise.all(workers.map((w) => w.close(true)));
      }
    },
  );

  it("keeps one invoice per subscription and period with several batches in flight in one worker", async () => {
    clock.set("2027-07-03T00:00:00Z");
    for (let i = 0; i < 30; i++) await deploymentAt("2027-07-03T00:00:00Z", { addons: ["storage_50gb"] });
    const progress: number[] = [];
    const summary = await runRolloverPass(db.orm, {
      now: at("2027-10-01T00:00:00Z"),
      batchSize: 4,
      concurrency: 4,
      onBatch: (p) => progress.push(p.subscriptionsProcessed),
    });
    const [row] = await db.orm.em.getConnection().execute(
      `select count(*)::int as n, count(distinct (subscription_id, period_start))::int as d,
                coalesce(sum(total_cents), 0)::bigint as total
           from statements where issued_at = '2027-10-01T00:00:00Z'`,
    );
    expect(row!.n).toBe(row!.d);
    expect(row!.n).toBe(summary.invoicesIssued);
    expect(Number(row!.total)).toBe(summary.totalsByCurrency.AUD);
    expect(summary.invoicesIssued).toBeGreaterThanOrEqual(30 * 3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const [due] = await db.orm.em
      .getConnection()
      .execute(
        "select count(*)::int as n from subscriptions where ended_at is null and current_period_end <= '2027-10-01'",
      );
    expect(due!.n).toBe(0);
  });
});
