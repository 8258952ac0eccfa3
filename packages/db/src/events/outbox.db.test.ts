import type { EventType } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getInvoice } from "../billing/invoices.ts";
import { runRolloverPass } from "../billing/rollover.ts";
import { runCollectionPass } from "../collection/collection-pass.ts";
import {
  listPayments,
  markInvoiceUncollectible,
  recordManualPayment,
  voidInvoice,
} from "../collection/payments.ts";
import { defaultPaymentProviders } from "../collection/sandbox-provider.ts";
import { setPaymentMethod } from "../collection/tenant-settings.ts";
import { createDeployment, transitionDeployment, updateDeployment } from "../deployments/deployments.ts";
import {
  presentDeployment,
  presentInvoice,
  presentPayment,
  presentResource,
  presentSubscription,
} from "../presenters/presenters.ts";
import { registerResource, releaseResource } from "../resources/resources.ts";
import { attachAddon, changePlan, detachAddon, subscribe } from "../subscriptions/subscriptions.ts";
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
  waitForFeed,
} from "../testing/index.ts";
import { listEvents, type StoredEvent } from "./feed.ts";

describe.each(testBackends({ pooled: true }))("the outbox on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T10:00:00.000Z"));
  let t: TenantFixture;
  let other: TenantFixture;
  const ctx = () => testContext(db.orm, clock);
  let cursor: string | undefined;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    t = await tenantFixture(db.orm, clock);
    other = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  /** The events the tenant's feed gained since the last call. */
  async function newEvents(tenant = t): Promise<StoredEvent[]> {
    const all: StoredEvent[] = [];
    await waitForFeed(db.orm);
    for (;;) {
      const page = await listEvents(ctx(), tenant.viewer, { after: cursor, limit: 200 });
      cursor = page.nextCursor;
      if (page.items.length === 0) return all;
      all.push(...page.items);
    }
  }
  const types = (events: StoredEvent[]) => events.map((e) => e.type);

  async function deployment(trial = false) {
    const doc = await createDeployment(ctx(), t.admin, {
      slug: `e-${++n}`,
      displayName: "E",
      region: "au-syd",
      trial,
    });
    return doc.deployment;
  }

  it("each change writes exactly its own event, with the resource as the API shows it after the change", async () => {
    await newEvents();
    const d = await deployment();
    let events = await newEvents();
    expect(types(events)).toEqual(["deployment.created"]);
    expect(events[0]).toMatchObject({ tenantId: t.tenantId, occurredAt: clock.now() });
    expect(events[0]!.data).toEqual(presentDeployment(d));

    clock.advance(1000);
    const updated = await updateDeployment(ctx(), t.admin, d.id, { displayName: "Renamed" });
    events = await newEvents();
    expect(types(events)).toEqual(["deployment.updated"]);
    expect(events[0]!.data).toEqual(presentDeployment(updated));

    const sub = await subscribe(ctx(), t.admin, d.id, { planCode: "studio" });
    events = await newEvents();
    expect(types(events)).toEqual(["subscription.created"]);
    expect(events[0]!.data).toEqual(presentSubscription(sub));

    const attachment = await attachAddon(ctx(), t.admin, d.id, "storage_50gb");
    events = await newEvents();
    expect(types(events)).toEqual(["subscription.addon_attached"]);
    expect((events[0]!.data as { addons: { id: string }[] }).addons.map((a) => a.id)).toEqual([
      attachment.id,
    ]);

    clock.advance(1000);
    await detachAddon(ctx(), t.admin, d.id, attachment.id);
    events = await newEvents();
    expect(types(events)).toEqual(["subscription.addon_detached"]);
    expect((events[0]!.data as { addons: { detachedAt: string }[] }).addons[0]!.detachedAt).toBe(
      clock.now().toISOString(),
    );

    const changed = await changePlan(ctx(), t.admin, d.id, { planCode: "scale", effective: "immediate" });
    events = await newEvents();
    expect(types(events)).toEqual(["subscription.plan_changed"]);
    expect(events[0]!.data).toEqual(presentSubscription(changed));

    const moved = await transitionDeployment(ctx(), t.admin, d.id, { to: "paused" });
    events = await newEvents();
    expect(types(events)).toEqual(["deployment.transitioned"]);
    expect(events[0]!.data).toEqual(presentDeployment(moved.deployment));

    const resource = await registerResource(ctx(), operator, d.id, {
      kind: "storage",
      providerRef: "vol-1",
      qty: "10",
    });
    events = await newEvents();
    expect(types(events)).toEqual(["resource.registered"]);
    expect(events[0]!.data).toEqual(presentResource(resource));
    const released = await releaseResource(ctx(), operator, d.id, resource.id);
    events = await newEvents();
    expect(types(events)).toEqual(["resource.released"]);
    expect(events[0]!.data).toEqual(presentResource(released));

    // Reads write nothing, and another tenant's feed does not see any of it.
    expect(await newEvents()).toEqual([]);
    const theirs = await listEvents(ctx(), other.admin, { limit: 200 });
    expect(theirs.items).toEqual([]);
  });

  it("a refused or rolled-back change leaves no event", async () => {
    await newEvents();
    const d = await deployment();
    await newEvents();
    expect(
      await codeOf(createDeployment(ctx(), t.admin, { slug: d.slug, displayName: "x", region: "au-syd" })),
    ).toBe("SLUG_TAKEN");
    expect(await codeOf(transitionDeployment(ctx(), t.admin, d.id, { to: "trial" }))).toBe(
      "INVALID_TRANSITION",
    );
    expect(await codeOf(updateDeployment(ctx(), t.viewer, d.id, { displayName: "no" }))).toBe("FORBIDDEN");
    expect(await codeOf(subscribe(ctx(), t.admin, d.id, { planCode: "nope" }))).toBe("UNKNOWN_PLAN");
    expect(
      await codeOf(registerResource(ctx(), t.admin, d.id, { kind: "storage", providerRef: "v", qty: "1" })),
    ).toBe("FORBIDDEN");
    expect(await newEvents()).toEqual([]);
  });

  it("the worker records set-wise: trial conversions and issued invoices", async () => {
    clock.set("2026-11-12T00:00:00.000Z");
    const trial = await deployment(true);
    await subscribe(ctx(), t.admin, trial.id, { planCode: "studio" });
    await newEvents();
    const summary = await runRolloverPass(db.orm, { now: new Date("2026-12-01T00:00:00.000Z") });
    const events = await newEvents();
    const count = (type: EventType) => events.filter((e) => e.type === type).length;
    expect(count("deployment.transitioned")).toBe(summary.trialsConverted);
    expect(count("invoice.issued")).toBe(summary.invoicesIssued);
    expect(summary.invoicesIssued).toBeGreaterThan(1);
    expect(events).toHaveLength(summary.trialsConverted + summary.invoicesIssued);
    const converted = events.find(
      (e) => e.type === "deployment.transitioned" && (e.data as { id: string }).id === trial.id,
    );
    expect(converted?.data).toMatchObject({ id: trial.id, state: "active" });
    const invoice = events.find((e) => e.type === "invoice.issued")!;
    expect(invoice.data).toMatchObject({
      tenantId: t.tenantId,
      status: expect.stringMatching(/^(open|paid)$/),
      currency: "AUD",
    });
    expect((invoice.data as { lines: unknown[] }).lines.length).toBeGreaterThan(0);
    // Each carries the invoice exactly as the API presents it.
    for (const issued of events.filter((e) => e.type === "invoice.issued")) {
      const { id } = issued.data as { id: string };
      expect(issued.data).toEqual(presentInvoice(await getInvoice(ctx(), t.admin, id)));
    }
    // A second pass has nothing due, so it records nothing.
    await runRolloverPass(db.orm, { now: new Date("2026-12-01T00:00:00.000Z") });
    expect(await newEvents()).toEqual([]);
  });

  type Invoice = { id: string; totalCents: number };
  it("collection writes exactly its events: attempts, the invoices they move, and the ladder's transitions", async () => {
    const c = await tenantFixture(db.orm, clock);
    const providers = defaultPaymentProviders(db.orm);
    let after: string | undefined;
    /** The events the collection tenant's feed gained since the last call. */
    const feed = async (): Promise<StoredEvent[]> => {
      const all: StoredEvent[] = [];
      await waitForFeed(db.orm);
      for (;;) {
        const page = await listEvents(ctx(), c.viewer, { after, limit: 200 });
        after = page.nextCursor;
        if (page.items.length === 0) return all;
        all.push(...page.items);
      }
    };
    const collect = (iso: string) => runCollectionPass(db.orm, { now: new Date(iso), providers });
    clock.set("2026-12-10T00:00:00.000Z");
    await setPaymentMethod(
      ctx(),
      c.admin,
      c.tenantId,
      { provider: "sandbox", token: "tok_declined" },
      providers,
    );
    const ids: string[] = [];
    for (const slug of ["ladder", "voided", "lost"]) {
      const doc = await createDeployment(ctx(), c.admin, { slug, displayName: slug, region: "au-syd" });
      await subscribe(ctx(), c.admin, doc.deployment.id, { planCode: "studio" });
      ids.push(doc.deployment.id);
    }
    await runRolloverPass(db.orm, { now: new Date("2027-01-01T00:00:00.000Z") });
    const issued = (await feed()).filter((e) => e.type === "invoice.issued");
    expect(issued).toHaveLength(3);
    const invoiceOf = (deploymentId: string) =>
      issued.find((e) => (e.data as { deploymentId: string }).deploymentId === deploymentId)!.data as Invoice;
    const [ladder, voided, lost] = ids.map(invoiceOf) as [Invoice, Invoice, Invoice];

    // Attempt 1 at issue, declined: the payment and its invoice, nothing else.
    await collect("2027-01-01T00:00:00.000Z");
    let events = await feed();
    expect(types(events).sort()).toEqual([
      ...Array(3).fill("invoice.payment_failed"),
      ...Array(3).fill("payment.failed"),
    ]);
    const failed = events.find(
      (e) => e.type === "payment.failed" && (e.data as { invoiceId: string }).invoiceId === ladder.id,
    )!;
    const [payment] = await listPayments(ctx(), c.viewer, ladder.id);
    expect(failed.data).toEqual(presentPayment(payment!));
    const failedInvoice = events.find(
      (e) => e.type === "invoice.payment_failed" && (e.data as { id: string }).id === ladder.id,
    )!;
    expect(failedInvoice.data).toEqual(presentInvoice(await getInvoice(ctx(), c.viewer, ladder.id)));

    // Due on 8 January: each invoice is announced overdue once, and each deployment goes past due.
    await collect("2027-01-08T00:00:00.000Z");
    events = await feed();
    expect(types(events).sort()).toEqual([
      ...Array(3).fill("deployment.transitioned"),
      ...Array(3).fill("invoice.overdue"),
    ]);
    const pastDue = events.find(
      (e) => e.type === "deployment.transitioned" && (e.data as { id: string }).id === ids[0],
    )!;
    expect(pastDue.data).toEqual((await deploymentDocument(ctx(), c.viewer, ids[0]!)).deployment);
    expect(pastDue.data).toMatchObject({ state: "past_due" });
    await collect("2027-01-08T00:00:00.000Z");
    expect(await feed()).toEqual([]);

    // An operator's payment in full: the payment, the invoice paid, the deployment settled.
    clock.set("2027-01-08T12:00:00.000Z");
    const manual = await recordManualPayment(ctx(), operator, ladder.id, { amountCents: ladder.totalCents });
    events = await feed();
    expect(types(events)).toEqual(["payment.succeeded", "invoice.paid", "deployment.transitioned"]);
    expect(events[0]!.data).toEqual(presentPayment(manual));
    expect(events[1]!.data).toEqual(presentInvoice(await getInvoice(ctx(), c.viewer, ladder.id)));
    expect(events[1]!.data).toMatchObject({ status: "paid", amountDueCents: 0 });
    expect(events[2]!.data).toMatchObject({ id: ids[0], state: "active" });

    // Voided and given up on: each its own event, then the settlement.
    await voidInvoice(ctx(), operator, voided.id);
    events = await feed();
    expect(types(events)).toEqual(["invoice.voided", "deployment.transitioned"]);
    expect(events[0]!.data).toMatchObject({ id: voided.id, status: "void" });
    await markInvoiceUncollectible(ctx(), operator, lost.id);
    events = await feed();
    expect(types(events)).toEqual(["invoice.marked_uncollectible", "deployment.transitioned"]);
    expect(events[0]!.data).toMatchObject({ id: lost.id, status: "uncollectible" });

    // Refused changes write nothing.
    expect(await codeOf(recordManualPayment(ctx(), operator, ladder.id, { amountCents: 1 }))).toBe(
      "INVOICE_NOT_OPEN",
    );
    expect(await codeOf(voidInvoice(ctx(), operator, ladder.id))).toBe("INVOICE_NOT_OPEN");
    expect(await feed()).toEqual([]);

    // A charge that succeeds: the payment and the paid invoice.
    await setPaymentMethod(ctx(), c.admin, c.tenantId, { provider: "sandbox", token: "tok_ok" }, providers);
    await runRolloverPass(db.orm, { now: new Date("2027-02-01T00:00:00.000Z") });
    expect(types(await feed())).toEqual(Array(3).fill("invoice.issued"));
    await collect("2027-02-01T00:00:00.000Z");
    expect(types(await feed()).sort()).toEqual([
      ...Array(3).fill("invoice.paid"),
      ...Array(3).fill("payment.succeeded"),
    ]);
  });
});
