import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDeploymentInvoices, upcomingInvoice } from "../billing/invoices.ts";
import { runRolloverPass } from "../billing/rollover.ts";
import { createDeployment } from "../deployments/deployments.ts";
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
import { changePlan, subscribe } from "./subscriptions.ts";

const at = (iso: string) => new Date(iso);

/**
 * SPEC §3.4: plan changes are totally ordered by a per-subscription sequence; of several effective
 * at one instant the last made holds. A frozen clock makes such ties routine; the physical order of
 * rows (which VACUUM FULL and CLUSTER rewrite) must not matter.
 */
describe.each(testBackends())("plan changes at one instant on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(at("2026-11-16T00:00:00.000Z"));
  let t: TenantFixture;
  const ctx = () => testContext(db.orm, clock);
  let n = 0;
  const ids: Record<string, string> = {};

  async function subscribed(planCode: string) {
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug: `app-${++n}`,
      displayName: "App",
      region: "au-syd",
    });
    await subscribe(ctx(), t.admin, deployment.id, { planCode });
    return deployment.id;
  }

  async function current(id: string) {
    const sub = (await deploymentDocument(ctx(), operator, id)).subscription!;
    return {
      plan: sub.planVersion.planCode,
      pending: sub.pendingPlanVersion?.planCode ?? null,
      history: sub.planHistory.map((c) => [c.sequence, c.toPlanVersion.planCode]),
    };
  }

  async function invoices(id: string) {
    const page = await listDeploymentInvoices(ctx(), operator, id, { limit: 50 });
    return page.items.map(({ invoice, lines }) => ({
      period: invoice.periodStart.toISOString().slice(0, 7),
      total: invoice.totalCents,
      lines: lines.map((l) => [l.description.split(":")[0], l.amountCents]),
    }));
  }

  /** Rewrites the table in the reverse of the order its rows were made in. */
  async function reorderRows() {
    const em = db.orm.em.fork();
    await em.execute(
      "create index if not exists plan_changes_reversed on subscription_plan_changes (id desc)",
    );
    await em.execute("cluster subscription_plan_changes using plan_changes_reversed");
    await em.execute("vacuum full subscription_plan_changes");
    await em.execute("analyze subscription_plan_changes");
    const rows = await em.execute<{ sequence: number }[]>(
      "select sequence from subscription_plan_changes where subscription_id = (select id from subscriptions where deployment_id = ?)",
      [ids.subscribeThenChange],
    );
    // A plain scan now returns the newest change first.
    expect(rows.map((r) => r.sequence)).toEqual([3, 2, 1]);
  }

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    t = await tenantFixture(db.orm, clock);
    // Subscribe, then change twice, all at the same instant.
    ids.subscribeThenChange = await subscribed("hobby");
    await changePlan(ctx(), t.admin, ids.subscribeThenChange, { planCode: "studio", effective: "immediate" });
    await changePlan(ctx(), t.admin, ids.subscribeThenChange, { planCode: "scale", effective: "immediate" });
    // A period-end change, applied at the month's end, then an immediate change at that instant.
    ids.pendingThenImmediate = await subscribed("studio");
    await changePlan(ctx(), t.admin, ids.pendingThenImmediate, {
      planCode: "scale",
      effective: "period_end",
    });
  });
  afterAll(() => db?.close());

  it("the last change made at an instant holds: current plan, history, upcoming and issued invoices", async () => {
    const expected = {
      plan: "scale",
      pending: null,
      history: [
        [1, "hobby"],
        [2, "studio"],
        [3, "scale"],
      ],
    };
    expect(await current(ids.subscribeThenChange!)).toEqual(expected);
    const upcoming = await upcomingInvoice(ctx(), operator, ids.subscribeThenChange!);
    // 15 of 30 days on scale (19900): 9950; hobby and studio cover no time.
    expect(upcoming.lines.map((l) => [l.refId !== "", l.amountCents])).toEqual([[true, 9950]]);
    expect(upcoming.totalCents).toBe(9950);

    await reorderRows();
    expect(await current(ids.subscribeThenChange!)).toEqual(expected);
    expect((await upcomingInvoice(ctx(), operator, ids.subscribeThenChange!)).totalCents).toBe(9950);

    const pass = await runRolloverPass(db.orm, { now: at("2026-12-01T00:00:00Z") });
    expect(pass.invoicesIssued).toBe(2);
    expect(await invoices(ids.subscribeThenChange!)).toEqual([
      { period: "2026-11", total: 9950, lines: [["Plan scale v1", 9950]] },
    ]);
  });

  it("a pending change applied at the period's end, then an immediate one at that instant: the immediate holds", async () => {
    clock.set("2026-12-01T00:00:00.000Z"); // the rollover above applied the pending change here
    expect((await current(ids.pendingThenImmediate!)).plan).toBe("scale");
    await changePlan(ctx(), t.admin, ids.pendingThenImmediate!, {
      planCode: "hobby",
      effective: "immediate",
    });
    const expected = {
      plan: "hobby",
      pending: null,
      history: [
        [1, "studio"],
        [2, "scale"],
        [3, "hobby"],
      ],
    };
    expect(await current(ids.pendingThenImmediate!)).toEqual(expected);

    await reorderRows();
    expect(await current(ids.pendingThenImmediate!)).toEqual(expected);
    await runRolloverPass(db.orm, { now: at("2027-01-01T00:00:00Z") });
    // December is all hobby (0), never scale: November was studio in full.
    expect(await invoices(ids.pendingThenImmediate!)).toEqual([
      { period: "2026-11", total: 2450, lines: [["Plan studio v1", 2450]] },
      { period: "2026-12", total: 0, lines: [["Plan hobby v1", 0]] },
    ]);
  });
});
