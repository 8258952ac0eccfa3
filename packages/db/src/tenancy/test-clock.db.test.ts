import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DUE_WORK, type DueWork, periodEnds } from "../billing/due-work.ts";
import { listDeploymentInvoices } from "../billing/invoices.ts";
import { defaultPaymentProviders, type PaymentProviders } from "../collection/sandbox-provider.ts";
import { setPaymentMethod } from "../collection/tenant-settings.ts";
import { createDeployment, transitionDeployment } from "../deployments/deployments.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import {
  codeOf,
  createTestDatabase,
  deploymentDocument,
  operator,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { advanceTestClock, getTestClock } from "./test-clock.ts";

const at = (iso: string) => new Date(iso);

describe.each(testBackends())("advancing a test clock on %s", (backend) => {
  let db: TestDatabase;
  const wall = new TestClock(at("2026-11-16T10:00:00.000Z"));
  const ctx = () => testContext(db.orm, wall);
  let n = 0;

  let providers: PaymentProviders;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    providers = defaultPaymentProviders(db.orm);
  });
  afterAll(() => db?.close());

  async function sandboxWith(frozenAt: string, count: number, opts: { trial?: boolean } = {}) {
    const t = await tenantFixture(db.orm, wall, { testClock: at(frozenAt) });
    // Paid at issue (the advance runs collection too): the ladder stays out of these tests.
    await setPaymentMethod(ctx(), t.admin, t.tenantId, { provider: "sandbox", token: "tok_ok" }, providers);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { deployment } = await createDeployment(ctx(), t.admin, {
        slug: `app-${++n}`,
        displayName: "App",
        region: "au-syd",
        trial: opts.trial,
      });
      await subscribe(ctx(), t.admin, deployment.id, {
        planCode: "studio",
        addons: [{ code: "storage_50gb" }],
      });
      ids.push(deployment.id);
    }
    return { t, ids };
  }

  async function invoicesOf(ids: string[]) {
    const all = [];
    for (const id of ids) {
      const page = await listDeploymentInvoices(ctx(), operator, id, { limit: 200 });
      all.push(
        page.items.map(({ invoice, lines }) => ({
          period: invoice.periodStart.toISOString(),
          periodEnd: invoice.periodEnd.toISOString(),
          issuedAt: invoice.issuedAt.toISOString(),
          total: invoice.totalCents,
          lines: lines.map((l) => [l.kind, l.billableMs, l.amountCents]),
        })),
      );
    }
    return all;
  }

  it("an advance that fails half-way changes nothing, and the next one runs every instant once", async () => {
    const interrupted = await sandboxWith("2027-01-10T00:00:00.000Z", 3, { trial: true });
    const twin = await sandboxWith("2027-01-10T00:00:00.000Z", 3, { trial: true });
    let visits = 0;
    const crashing: DueWork = {
      name: "crash on the third instant",
      nextDue: async () => null,
      async run() {
        visits += 1;
        if (visits === 3) throw new Error("simulated crash");
        return {};
      },
    };
    const to = at("2027-06-01T00:00:00.000Z");
    await expect(
      advanceTestClock(ctx(), interrupted.t.admin, interrupted.t.tenantId, to, [...DUE_WORK, crashing]),
    ).rejects.toThrow("simulated crash");
    expect(visits).toBe(3);
    expect((await getTestClock(ctx(), interrupted.t.admin, interrupted.t.tenantId)).frozenAt).toEqual(
      at("2027-01-10T00:00:00.000Z"),
    );
    expect((await invoicesOf(interrupted.ids)).flat()).toEqual([]);
    for (const id of interrupted.ids)
      expect((await deploymentDocument(ctx(), operator, id)).deployment.state).toBe("trial");

    const resumed = await advanceTestClock(ctx(), interrupted.t.admin, interrupted.t.tenantId, to);
    const straight = await advanceTestClock(ctx(), twin.t.admin, twin.t.tenantId, to);
    // The trials end on 24 January, then five month ends.
    expect(resumed.instants.map((i) => i.at.toISOString())).toEqual([
      "2027-01-24T00:00:00.000Z",
      "2027-02-01T00:00:00.000Z",
      "2027-03-01T00:00:00.000Z",
      "2027-04-01T00:00:00.000Z",
      "2027-05-01T00:00:00.000Z",
      "2027-06-01T00:00:00.000Z",
    ]);
    expect(resumed).toMatchObject({ invoicesIssued: 15, transitionsMade: 3 });
    expect(straight.instants).toEqual(resumed.instants);
    const invoices = await invoicesOf(interrupted.ids);
    expect(invoices).toEqual(await invoicesOf(twin.ids));
    expect(invoices.map((list) => list.length)).toEqual([5, 5, 5]);
  });

  it("a write of the sandbox during an advance waits for it and carries the advanced clock", async () => {
    const { t, ids } = await sandboxWith("2027-01-10T00:00:00.000Z", 2);
    const { deployment: fresh } = await createDeployment(ctx(), t.admin, {
      slug: `fresh-${++n}`,
      displayName: "Fresh",
      region: "au-syd",
    });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slowPeriodEnds: DueWork = {
      ...periodEnds,
      async run(em, scope, instant) {
        started();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return periodEnds.run(em, scope, instant);
      },
    };
    const to = at("2027-03-15T00:00:00.000Z");
    const advance = advanceTestClock(ctx(), t.admin, t.tenantId, to, [slowPeriodEnds]);
    await running;
    const [transitioned, subscribed] = await Promise.all([
      transitionDeployment(ctx(), t.admin, ids[0]!, { to: "paused" }),
      subscribe(ctx(), t.admin, fresh.id, { planCode: "scale" }),
    ]);
    const summary = await advance;
    expect(summary.invoicesIssued).toBe(4);
    // Both writes were made at the clock the advance left, never inside a period it had closed.
    expect(transitioned.event.occurredAt).toEqual(to);
    expect(subscribed.subscription.createdAt).toEqual(to);
    expect(subscribed.subscription.currentPeriodStart).toEqual(at("2027-03-01T00:00:00.000Z"));
    const [paused] = await invoicesOf([ids[0]!]);
    expect(paused!.map((i) => i.issuedAt)).toEqual(["2027-02-01T00:00:00.000Z", "2027-03-01T00:00:00.000Z"]);
    expect(paused![1]!.total).toBe(4900 + 750); // February in full: the pause came after it
  });

  it("refuses a tenant admin of another tenant (not found), a viewer, backwards, and an ordinary tenant", async () => {
    const { t } = await sandboxWith("2027-01-10T00:00:00.000Z", 0);
    const other = await tenantFixture(db.orm, wall, { testClock: at("2027-01-10T00:00:00.000Z") });
    const ordinary = await tenantFixture(db.orm, wall);
    const to = at("2027-02-10T00:00:00.000Z");
    expect(await codeOf(advanceTestClock(ctx(), other.admin, t.tenantId, to))).toBe("NOT_FOUND");
    expect(await codeOf(getTestClock(ctx(), other.admin, t.tenantId))).toBe("NOT_FOUND");
    expect(await codeOf(advanceTestClock(ctx(), t.viewer, t.tenantId, to))).toBe("FORBIDDEN");
    expect(await codeOf(advanceTestClock(ctx(), t.admin, t.tenantId, at("2027-01-09T00:00:00.000Z")))).toBe(
      "CLOCK_BACKWARDS",
    );
    expect(await codeOf(advanceTestClock(ctx(), operator, ordinary.tenantId, to))).toBe("NOT_A_SANDBOX");
    expect(await codeOf(advanceTestClock(ctx(), operator, "not-a-uuid", to))).toBe("NOT_FOUND");
    expect((await getTestClock(ctx(), operator, t.tenantId)).frozenAt).toEqual(
      at("2027-01-10T00:00:00.000Z"),
    );
  });
});
