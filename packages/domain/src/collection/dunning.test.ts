import { describe, expect, it } from "vitest";
import type { DeploymentState } from "../lifecycle/states.ts";
import {
  type CollectionInvoice,
  type CollectionSubject,
  collectionPlan,
  DEFAULT_DUNNING_POLICY,
  dueCollectionWork,
  validateDunningPolicy,
} from "./dunning.ts";

const at = (iso: string) => new Date(iso);
const ISSUED = at("2027-01-01T00:00:00Z");
const DUE = at("2027-01-08T00:00:00Z");
const day = (n: number) => new Date(DUE.getTime() + n * 86_400_000);

function openInvoice(overrides: Partial<CollectionInvoice> = {}): CollectionInvoice {
  return {
    id: "inv-1",
    number: "INV-ACME-000001",
    status: "open",
    totalCents: 4900,
    amountPaidCents: 0,
    issuedAt: ISSUED,
    dueAt: DUE,
    overdueAt: null,
    lastAttempt: 0,
    attemptInFlight: false,
    permanentFailureMethodId: null,
    ...overrides,
  };
}

function subject(
  overrides: Partial<CollectionSubject> = {},
  state: DeploymentState = "active",
): CollectionSubject {
  return {
    state,
    billingActionSuspended: false,
    lastEvent: { actorType: "principal", occurredAt: at("2026-12-01T00:00:00Z") },
    invoices: [openInvoice()],
    policy: DEFAULT_DUNNING_POLICY,
    paymentMethodId: "pm-1",
    ...overrides,
  };
}

describe("dunning policy", () => {
  it("accepts the default and refuses a ladder out of order or fractional days", () => {
    expect(validateDunningPolicy(DEFAULT_DUNNING_POLICY).ok).toBe(true);
    const bad = validateDunningPolicy({ ...DEFAULT_DUNNING_POLICY, suspendAfterDays: 40 });
    expect(bad.ok ? {} : bad.error.details.fields).toHaveProperty("cancelAfterDays");
    const frac = validateDunningPolicy({ ...DEFAULT_DUNNING_POLICY, retryAfterDays: [1, 1.5] });
    expect(frac.ok ? {} : frac.error.details.fields).toHaveProperty("retryAfterDays");
    const unordered = validateDunningPolicy({ ...DEFAULT_DUNNING_POLICY, retryAfterDays: [3, 1] });
    expect(unordered.ok).toBe(false);
  });
});

describe("collection plan", () => {
  it("looks ahead before the invoice is overdue: the whole ladder, oldest first", () => {
    const plan = collectionPlan(
      subject({ invoices: [openInvoice({ lastAttempt: 1 })] }),
      at("2027-01-02T00:00:00Z"),
    );
    expect(plan.map((a) => [a.action, a.at.toISOString(), a.attempt ?? null])).toEqual([
      ["past_due", day(0).toISOString(), null],
      ["retry_payment", day(1).toISOString(), 2],
      ["retry_payment", day(3).toISOString(), 3],
      ["retry_payment", day(5).toISOString(), 4],
      ["retry_payment", day(7).toISOString(), 5],
      ["suspend", day(14).toISOString(), null],
      ["cancel", day(30).toISOString(), null],
      ["archive", day(90).toISOString(), null],
    ]);
    expect(plan.every((a) => a.invoiceId === "inv-1")).toBe(true);
  });

  it("charges at issue, then moves step by step, and a late worker takes every step that has come", () => {
    expect(dueCollectionWork(subject(), ISSUED).charges).toEqual([{ invoiceId: "inv-1", attempt: 1 }]);
    const atDue = dueCollectionWork(subject({ invoices: [openInvoice({ lastAttempt: 1 })] }), DUE);
    expect(atDue.transitions.map((t) => t.to)).toEqual(["past_due"]);
    expect(atDue.transitions[0]!.reason).toContain("INV-ACME-000001");
    expect(atDue.nextAt?.toISOString()).toBe(day(1).toISOString());
    const late = dueCollectionWork(subject({ invoices: [openInvoice({ lastAttempt: 1 })] }), day(31));
    expect(late.transitions.map((t) => t.to)).toEqual(["past_due", "suspended", "cancelled"]);
    // Missed retry slots are not caught up: only the latest one that has come is charged.
    expect(late.charges).toEqual([{ invoiceId: "inv-1", attempt: 5 }]);
  });

  it("does not charge again while an attempt awaits its result, nor after a final failure on the same method", () => {
    const inFlight = subject({ invoices: [openInvoice({ lastAttempt: 1, attemptInFlight: true })] });
    expect(dueCollectionWork(inFlight, day(1)).charges).toEqual([]);
    const lost = subject({ invoices: [openInvoice({ lastAttempt: 1, permanentFailureMethodId: "pm-1" })] });
    expect(dueCollectionWork(lost, day(1)).charges).toEqual([]);
    expect(dueCollectionWork({ ...lost, paymentMethodId: "pm-2" }, day(1)).charges).toEqual([
      { invoiceId: "inv-1", attempt: 2 },
    ]);
    expect(dueCollectionWork({ ...lost, paymentMethodId: null }, day(1)).charges).toEqual([]);
  });

  it("never moves a deployment whose invoices are not overdue", () => {
    const work = dueCollectionWork(subject(), at("2027-01-07T23:59:59.999Z"));
    expect(work.transitions).toEqual([]);
    const paid = subject({ invoices: [openInvoice({ status: "paid", amountPaidCents: 4900 })] });
    expect(dueCollectionWork(paid, day(40)).transitions).toEqual([]);
    expect(collectionPlan(paid, day(40))).toEqual([]);
  });

  it("settles only states collection made", () => {
    const settled = { invoices: [openInvoice({ status: "paid", amountPaidCents: 4900 })] };
    const byCollection = subject(
      { ...settled, lastEvent: { actorType: "system", occurredAt: day(14) } },
      "suspended",
    );
    expect(dueCollectionWork(byCollection, day(15)).settle).toBe(true);
    const byOperator = subject(
      { ...settled, lastEvent: { actorType: "principal", occurredAt: day(14) } },
      "suspended",
    );
    expect(dueCollectionWork(byOperator, day(15)).settle).toBe(false);
    // An invoice that is open but not yet due does not stand in the way.
    const notYetDue = subject(
      { invoices: [openInvoice({ dueAt: day(20) })], lastEvent: { actorType: "system", occurredAt: day(1) } },
      "past_due",
    );
    expect(dueCollectionWork(notYetDue, day(2)).settle).toBe(true);
  });

  it("announces an invoice overdue once, at its due instant, and never one that is paid or not yet due", () => {
    const before = dueCollectionWork(subject({ invoices: [openInvoice({ lastAttempt: 1 })] }), ISSUED);
    expect(before.overdue).toEqual([]);
    // Collection comes back at the due instant even when no retry or step falls there.
    const laterLadder = { ...DEFAULT_DUNNING_POLICY, retryAfterDays: [2], pastDueAfterDays: 3 };
    const quiet = subject({ invoices: [openInvoice({ lastAttempt: 1 })], policy: laterLadder });
    expect(dueCollectionWork(quiet, ISSUED).nextAt?.toISOString()).toBe(DUE.toISOString());
    expect(dueCollectionWork(quiet, DUE).overdue).toEqual(["inv-1"]);
    const announced = subject({
      invoices: [openInvoice({ lastAttempt: 1, overdueAt: DUE })],
      policy: laterLadder,
    });
    expect(dueCollectionWork(announced, day(1)).overdue).toEqual([]);
    expect(dueCollectionWork(announced, DUE).nextAt?.toISOString()).toBe(day(2).toISOString());
    const paid = subject({ invoices: [openInvoice({ status: "paid", amountPaidCents: 4900 })] });
    expect(dueCollectionWork(paid, day(1)).overdue).toEqual([]);
  });

  it("the override holds back every step and says so", () => {
    const held = dueCollectionWork(subject({ billingActionSuspended: true }), day(31));
    expect(held).toMatchObject({ settle: false, transitions: [], overdue: [], charges: [], skipped: true });
  });

  it("archives a cancelled deployment after the retention, counted from cancellation", () => {
    const cancelled = subject(
      { invoices: [], lastEvent: { actorType: "principal", occurredAt: day(2) } },
      "cancelled",
    );
    expect(dueCollectionWork(cancelled, day(61)).transitions).toEqual([]);
    expect(dueCollectionWork(cancelled, day(62)).transitions.map((t) => t.to)).toEqual(["archived"]);
    expect(collectionPlan(subject({ invoices: [] }), day(62))).toEqual([]);
  });
});
