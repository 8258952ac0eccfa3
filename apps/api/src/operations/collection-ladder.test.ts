import { testBackends, waitForFeed } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
type Json = any;

// Written here from SPEC §3.8's default policy, apart from the code under test: a subscription made
// on 1 January is invoiced on 1 February, due 7 days later; retries 1, 3, 5 and 7 days after the due
// date; past due at it, suspended 14 days and cancelled 30 days after it; archived 60 days after that.
const DAY = 86_400_000;
const START = "2027-01-01T00:00:00.000Z";
const ISSUED = Date.parse("2027-02-01T00:00:00.000Z");
const DUE = ISSUED + 7 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const RETRIES = [1, 3, 5, 7].map((d) => iso(DUE + d * DAY));
const LADDER = [
  { state: "past_due", at: iso(DUE) },
  { state: "suspended", at: iso(DUE + 14 * DAY) },
  { state: "cancelled", at: iso(DUE + 30 * DAY) },
  { state: "archived", at: iso(DUE + 90 * DAY) },
];
const END = iso(DUE + 100 * DAY);

interface Expected {
  /** The first invoice's attempts: when each was made, and how it ended. */
  readonly attempts: { at: string; status: string; failureCode: string | null }[];
  readonly ladder: typeof LADDER;
}

const failingEveryTime = (code: string): Expected => ({
  attempts: [iso(ISSUED), ...RETRIES].map((at) => ({ at, status: "failed", failureCode: code })),
  ladder: LADDER,
});

const EXPECTED: Record<string, Expected> = {
  tok_ok: { attempts: [{ at: iso(ISSUED), status: "succeeded", failureCode: null }], ladder: [] },
  // The charge went through but answered nothing; a lookup a lease later finds it. Charged once.
  tok_timeout: { attempts: [{ at: iso(ISSUED), status: "succeeded", failureCode: null }], ladder: [] },
  tok_declined: failingEveryTime("card_declined"),
  tok_insufficient_funds: failingEveryTime("insufficient_funds"),
  // A final failure: no retries on that card; the ladder runs.
  tok_lost_card: {
    attempts: [{ at: iso(ISSUED), status: "failed", failureCode: "lost_card" }],
    ladder: LADDER,
  },
  none: { attempts: [], ladder: LADDER },
};

describe.each(testBackends())("the dunning ladder through the API with sandbox tenants on %s", (backend) => {
  let h: Harness;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  async function call(method: string, path: string, token: string, body?: unknown, status = 200) {
    const r = await h.request(method, `/api/v1${path}`, { token, body });
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
    return r.body as Json;
  }

  /** A sandbox at 1 January paying by `token`, with one deployment on studio. */
  async function sandbox(token: string) {
    const t = await h.tenant(`ladder-${++n}`, { testClock: { frozenAt: START } });
    if (token !== "none")
      await call("PUT", `/tenants/${t.tenantId}/payment-method`, t.admin, { provider: "sandbox", token });
    const deploymentId = await h.deployment(t.admin, `app-${n}`);
    await call("POST", `/deployments/${deploymentId}/subscribe`, t.admin, { planCode: "studio" }, 201);
    return { t, deploymentId };
  }

  const advance = (t: TenantTokens, to: string) =>
    call("POST", `/tenants/${t.tenantId}/clock/advance`, t.admin, { to });
  const state = async (t: TenantTokens, id: string) =>
    (await call("GET", `/deployments/${id}`, t.viewer)).deployment.state;
  const firstInvoice = async (t: TenantTokens, id: string) =>
    (await call("GET", `/deployments/${id}/invoices?limit=200`, t.viewer)).items[0];

  /** Every event of the tenant's feed of these types, oldest first. */
  async function feed(t: TenantTokens, types: string): Promise<Json[]> {
    await waitForFeed(h.db.orm);
    const all: Json[] = [];
    let after = "";
    for (;;) {
      const page = await call("GET", `/events?type=${types}&limit=200${after}`, t.viewer);
      all.push(...page.items);
      if (page.items.length === 0) return all;
      after = `&after=${page.nextCursor}`;
    }
  }

  for (const token of Object.keys(EXPECTED)) {
    it(`${token}: every attempt and every step at its instant, each once, with its events`, async () => {
      const expected = EXPECTED[token]!;
      const { t, deploymentId } = await sandbox(token);
      const summary = await advance(t, END);
      expect(summary.transitionsMade).toBe(expected.ladder.length);

      const invoice = await firstInvoice(t, deploymentId);
      expect(invoice.issuedAt).toBe(iso(ISSUED));
      expect(invoice.dueAt).toBe(iso(DUE));
      const payments = await call("GET", `/invoices/${invoice.id}/payments`, t.viewer);
      expect(
        payments.map((p: Json) => ({ at: p.createdAt, status: p.status, failureCode: p.failureCode })),
      ).toEqual(expected.attempts);
      expect(payments.map((p: Json) => p.attempt)).toEqual(expected.attempts.map((_, i) => i + 1));
      const paid = expected.attempts.some((a) => a.status === "succeeded");
      expect(invoice).toMatchObject(
        paid
          ? { status: "paid", amountDueCents: 0, amountPaidCents: invoice.totalCents }
          : { status: "open", amountPaidCents: 0, amountDueCents: invoice.totalCents },
      );

      // The deployment's transitions, from the feed: as the system, at clock time, each once.
      const transitions = (await feed(t, "deployment.transitioned")).filter(
        (e) => e.data.id === deploymentId,
      );
      expect(transitions.map((e) => ({ state: e.data.state, at: e.occurredAt }))).toEqual(expected.ladder);
      expect(await state(t, deploymentId)).toBe(expected.ladder.at(-1)?.state ?? "active");

      // The first invoice's own events: issued, then each failure, then overdue or paid.
      const invoiceEvents = (
        await feed(t, "invoice.issued,invoice.payment_failed,invoice.overdue,invoice.paid")
      ).filter((e) => e.data.id === invoice.id);
      const failures = expected.attempts.filter((a) => a.status === "failed");
      expect(invoiceEvents.map((e) => [e.type, e.occurredAt])).toEqual(
        [
          ["invoice.issued", iso(ISSUED)],
          ...failures.map((a) => ["invoice.payment_failed", a.at]),
          ...(paid ? [] : [["invoice.overdue", iso(DUE)]]),
          ...(paid ? [["invoice.paid", payments[0].settledAt]] : []),
        ].sort((a, b) => a[1]!.localeCompare(b[1]!)),
      );

      // Advancing again over the same instants is impossible, and a later advance repeats nothing.
      await advance(t, iso(DUE + 101 * DAY));
      expect(await call("GET", `/invoices/${invoice.id}/payments`, t.viewer)).toEqual(payments);
    });
  }

  it("a manual payment settles the deployment collection suspended (a partial one does not)", async () => {
    const { t, deploymentId } = await sandbox("tok_declined");
    await advance(t, iso(DUE + 15 * DAY));
    expect(await state(t, deploymentId)).toBe("suspended");
    const invoice = await firstInvoice(t, deploymentId);
    await call("POST", `/invoices/${invoice.id}/payments`, h.adminToken, { amountCents: 100 }, 201);
    expect(await state(t, deploymentId)).toBe("suspended");
    const rest = invoice.totalCents - 100;
    await call("POST", `/invoices/${invoice.id}/payments`, h.adminToken, { amountCents: rest }, 201);
    expect(await state(t, deploymentId)).toBe("active");
    expect(await firstInvoice(t, deploymentId)).toMatchObject({ status: "paid", amountDueCents: 0 });
    // Settled means settled: the rest of the first invoice's ladder never comes (up to the day
    // before the next invoice, issued on 1 March, falls due).
    const beforeNextDue = iso(Date.parse("2027-03-08T00:00:00.000Z") - 1);
    await advance(t, beforeNextDue);
    const transitions = (await feed(t, "deployment.transitioned")).filter((e) => e.data.id === deploymentId);
    expect(transitions.map((e) => e.data.state)).toEqual(["past_due", "suspended", "active"]);
    expect(transitions[2].occurredAt).toBe(iso(DUE + 15 * DAY));
  });

  it("an operator's own suspension survives a payment", async () => {
    const { t, deploymentId } = await sandbox("none");
    await advance(t, iso(DUE + DAY));
    expect(await state(t, deploymentId)).toBe("past_due");
    await call("POST", `/deployments/${deploymentId}/transition`, h.adminToken, {
      to: "suspended",
      reason: "abuse report",
    });
    const invoice = await firstInvoice(t, deploymentId);
    await call(
      "POST",
      `/invoices/${invoice.id}/payments`,
      h.adminToken,
      { amountCents: invoice.totalCents },
      201,
    );
    expect(await state(t, deploymentId)).toBe("suspended");
    // Collection would have cancelled it 30 days after the due date; it leaves it alone now.
    await advance(t, iso(DUE + 31 * DAY));
    expect(await state(t, deploymentId)).toBe("suspended");
  });

  it("the override blocks every charge and every step; lifted, collection catches up at once", async () => {
    const { t, deploymentId } = await sandbox("tok_declined");
    await call("PATCH", `/deployments/${deploymentId}`, h.adminToken, { billingActionSuspended: true });
    const summary = await advance(t, iso(DUE + 20 * DAY));
    expect(summary.transitionsMade).toBe(0);
    const invoice = await firstInvoice(t, deploymentId);
    expect(await call("GET", `/invoices/${invoice.id}/payments`, t.viewer)).toEqual([]);
    expect(await state(t, deploymentId)).toBe("active");
    const held = (await feed(t, "deployment.transitioned,invoice.overdue,payment.failed")).filter(
      (e) => e.data.id === deploymentId || e.data.id === invoice.id || e.data.invoiceId === invoice.id,
    );
    expect(held).toEqual([]);

    await call("PATCH", `/deployments/${deploymentId}`, h.adminToken, { billingActionSuspended: false });
    await advance(t, iso(DUE + 20 * DAY + 1000));
    // 20 days after the due date: past due and suspended together, and one charge: missed slots are
    // not caught up, only the latest that has come (the fourth retry, attempt 5) is made.
    expect(await state(t, deploymentId)).toBe("suspended");
    const payments = await call("GET", `/invoices/${invoice.id}/payments`, t.viewer);
    expect(payments.map((p: Json) => p.attempt)).toEqual([1 + RETRIES.length]);
  });
});
