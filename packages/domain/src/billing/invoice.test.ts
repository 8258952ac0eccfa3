import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeploymentState } from "../lifecycle/states.ts";
import { calendarMonthOf, periodLengthMs } from "../shared/periods.ts";
import type { StateChange } from "./billable-time.ts";
import {
  type AttachmentSource,
  type InvoiceInput,
  invoiceForPeriod,
  type PlanSegmentSource,
} from "./invoice.ts";

const DAY = 86_400_000;
const NOV = calendarMonthOf(new Date("2026-11-15T00:00:00Z")); // 30 days
const at = (iso: string) => new Date(iso);
const studio = { id: "pv-studio-1", planCode: "studio", version: 1, priceCents: 4900 };
const scale = { id: "pv-scale-1", planCode: "scale", version: 1, priceCents: 19900 };

function events(...changes: [DeploymentState, string][]): StateChange[] {
  return changes.map(([toState, iso], i) => ({ sequence: i + 1, toState, occurredAt: at(iso) }));
}

function input(overrides: Partial<InvoiceInput> = {}): InvoiceInput {
  return {
    period: NOV,
    currency: "AUD",
    subscribedAt: at("2026-10-01T00:00:00Z"),
    planChanges: [{ planVersion: studio, effectiveAt: at("2026-10-01T00:00:00Z"), sequence: 1 }],
    attachments: [],
    events: events(["active", "2026-10-01T00:00:00Z"]),
    ...overrides,
  };
}

describe("invoiceForPeriod", () => {
  it("charges exactly the price for a full billable month", () => {
    const s = invoiceForPeriod(input());
    expect(s.totalCents).toBe(4900);
    expect(s.lines).toEqual([
      expect.objectContaining({
        kind: "plan",
        refId: "pv-studio-1",
        unitPriceCents: 4900,
        billableMs: 30 * DAY,
        periodMs: 30 * DAY,
        amountCents: 4900,
      }),
    ]);
  });

  it("bills from the subscription's start when it starts mid-month", () => {
    const s = invoiceForPeriod(
      input({
        subscribedAt: at("2026-11-16T00:00:00Z"),
        planChanges: [{ planVersion: studio, effectiveAt: at("2026-11-16T00:00:00Z"), sequence: 1 }],
        events: events(["active", "2026-11-16T00:00:00Z"]),
      }),
    );
    expect(s.lines[0]!.billableMs).toBe(15 * DAY);
    expect(s.totalCents).toBe(2450);
  });

  it("does not bill a pause gap", () => {
    const s = invoiceForPeriod(
      input({
        events: events(
          ["active", "2026-10-01T00:00:00Z"],
          ["paused", "2026-11-11T00:00:00Z"],
          ["active", "2026-11-21T00:00:00Z"],
        ),
      }),
    );
    expect(s.lines[0]!.billableMs).toBe(20 * DAY);
    expect(s.totalCents).toBe(3267); // 4900 × 20/30 = 3266.67
  });

  it("bills past_due time but not trial, suspended or cancelled time", () => {
    const s = invoiceForPeriod(
      input({
        events: events(
          ["trial", "2026-10-01T00:00:00Z"],
          ["past_due", "2026-11-04T00:00:00Z"], // 3 days trial, then billable
          ["suspended", "2026-11-10T00:00:00Z"], // 6 days past_due
          ["active", "2026-11-20T00:00:00Z"], // 10 days suspended
          ["cancelled", "2026-11-26T00:00:00Z"], // 6 days active, then cancelled
        ),
      }),
    );
    expect(s.lines[0]!.billableMs).toBe(12 * DAY);
    expect(s.totalCents).toBe(1960);
  });

  it("bills an add-on only while attached, at its snapshot price", () => {
    const addon: AttachmentSource = {
      id: "att-1",
      addonCode: "storage_50gb",
      priceCents: 750,
      qty: "50",
      attachedAt: at("2026-11-06T00:00:00Z"),
      detachedAt: at("2026-11-21T00:00:00Z"),
    };
    const s = invoiceForPeriod(input({ attachments: [addon] }));
    expect(s.lines.map((l) => [l.kind, l.refId, l.billableMs, l.amountCents])).toEqual([
      ["plan", "pv-studio-1", 30 * DAY, 4900],
      ["addon", "att-1", 15 * DAY, 375],
    ]);
    expect(s.totalCents).toBe(5275);
  });

  it("splits the plan at an immediate change", () => {
    const s = invoiceForPeriod(
      input({
        planChanges: [
          { planVersion: studio, effectiveAt: at("2026-10-01T00:00:00Z"), sequence: 1 },
          { planVersion: scale, effectiveAt: at("2026-11-11T00:00:00Z"), sequence: 2 },
        ],
      }),
    );
    expect(s.lines.map((l) => [l.refId, l.billableMs, l.amountCents])).toEqual([
      ["pv-studio-1", 10 * DAY, 1633], // 1633.33
      ["pv-scale-1", 20 * DAY, 13267], // 13266.67
    ]);
    expect(s.totalCents).toBe(14900);
  });

  it("of changes effective at one instant, the last made holds, whatever order they are read in", () => {
    const hobby = { id: "pv-hobby-1", planCode: "hobby", version: 1, priceCents: 0 };
    const made = [
      { planVersion: studio, effectiveAt: at("2026-10-01T00:00:00Z"), sequence: 1 },
      { planVersion: hobby, effectiveAt: at("2026-11-11T00:00:00Z"), sequence: 2 },
      { planVersion: scale, effectiveAt: at("2026-11-11T00:00:00Z"), sequence: 3 },
    ];
    for (const planChanges of [made, [...made].reverse(), [made[2]!, made[0]!, made[1]!]]) {
      const s = invoiceForPeriod(input({ planChanges }));
      expect(s.lines.map((l) => [l.refId, l.billableMs, l.amountCents])).toEqual([
        ["pv-studio-1", 10 * DAY, 1633],
        ["pv-scale-1", 20 * DAY, 13267],
      ]);
    }
  });

  it("the invoice does not depend on the order the plan changes are read in", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer(),
        (list, seed) => {
          // Few distinct instants, so ties are common (a frozen test clock makes them routine).
          const changes = list.map(([priceCents, slot], i) => ({
            planVersion: { id: `pv${i}`, planCode: "p", version: i + 1, priceCents },
            effectiveAt: new Date(NOV.start.getTime() + slot * 7 * DAY),
            sequence: i + 1,
          }));
          const shuffled = changes
            .map((c, i) => ({ c, k: Math.imul(i + 1, seed | 1) >>> 0 }))
            .sort((a, b) => a.k - b.k)
            .map(({ c }) => c);
          const inOrder = invoiceForPeriod(input({ planChanges: changes }));
          expect(invoiceForPeriod(input({ planChanges: shuffled }))).toEqual(inOrder);
          // Among changes effective at one instant only the last made can have billable time.
          for (const line of inOrder.lines) {
            const change = changes.find((c) => c.planVersion.id === line.refId)!;
            const later = changes.filter(
              (c) => c.effectiveAt.getTime() === change.effectiveAt.getTime() && c.sequence > change.sequence,
            );
            expect(later).toEqual([]);
          }
        },
      ),
    );
  });

  it("ignores a change effective at the period's end (it belongs to the next period)", () => {
    const s = invoiceForPeriod(
      input({
        planChanges: [
          { planVersion: studio, effectiveAt: at("2026-10-01T00:00:00Z"), sequence: 1 },
          { planVersion: scale, effectiveAt: NOV.end, sequence: 2 },
        ],
      }),
    );
    expect(s.lines.map((l) => l.refId)).toEqual(["pv-studio-1"]);
    expect(s.totalCents).toBe(4900);
  });

  it("keeps an invoice with no lines and total 0 when nothing was billable", () => {
    const s = invoiceForPeriod(input({ events: events(["paused", "2026-10-01T00:00:00Z"]) }));
    expect(s.lines).toEqual([]);
    expect(s.totalCents).toBe(0);
  });

  it("keeps a zero-price plan as a 0-cent line that shows its billable time", () => {
    const hobby = { id: "pv-hobby-1", planCode: "hobby", version: 1, priceCents: 0 };
    const s = invoiceForPeriod(
      input({ planChanges: [{ planVersion: hobby, effectiveAt: at("2026-10-01T00:00:00Z"), sequence: 1 }] }),
    );
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]!.amountCents).toBe(0);
    expect(s.totalCents).toBe(0);
  });

  it("treats instants to the millisecond", () => {
    const s = invoiceForPeriod(
      input({ events: events(["active", "2026-10-01T00:00:00Z"], ["paused", "2026-11-30T23:59:59.999Z"]) }),
    );
    expect(s.lines[0]!.billableMs).toBe(30 * DAY - 1);
  });
});

// Properties over arbitrary event logs, plan histories and attachments.
const STATES: DeploymentState[] = [
  "trial",
  "active",
  "past_due",
  "paused",
  "suspended",
  "cancelled",
  "archived",
];
const periodArb = fc
  .date({ min: new Date("2020-01-01"), max: new Date("2040-01-01"), noInvalidDate: true })
  .map(calendarMonthOf);

const scenario = periodArb.chain((period) => {
  const len = periodLengthMs(period);
  const offset = fc.integer({ min: -len, max: 2 * len }).map((o) => new Date(period.start.getTime() + o));
  const price = fc.integer({ min: 0, max: 10_000_000 });
  return fc.record({
    period: fc.constant(period),
    events: fc
      .array(fc.tuple(fc.constantFrom(...STATES), offset), { minLength: 1, maxLength: 12 })
      .map((list) =>
        list
          .sort((a, b) => a[1].getTime() - b[1].getTime())
          .map(([toState, occurredAt], i) => ({ sequence: i + 1, toState, occurredAt })),
      ),
    planChanges: fc.array(fc.tuple(price, offset), { minLength: 1, maxLength: 4 }).map((list) =>
      list.map(
        ([priceCents, effectiveAt], i): PlanSegmentSource => ({
          planVersion: { id: `pv${i}`, planCode: "p", version: i + 1, priceCents },
          effectiveAt,
          sequence: i + 1,
        }),
      ),
    ),
    attachments: fc.array(fc.tuple(price, offset, fc.option(offset)), { maxLength: 4 }).map((list) =>
      list.map(
        ([priceCents, a, d], i): AttachmentSource => ({
          id: `a${i}`,
          addonCode: "x",
          qty: "1",
          priceCents,
          attachedAt: a,
          detachedAt: d && d.getTime() >= a.getTime() ? d : null,
        }),
      ),
    ),
    subscribedAt: offset,
  });
});

describe("invoice properties", () => {
  it("amounts are non-negative integers, lines have billable time within the period, the total is their sum", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const s = invoiceForPeriod({ ...sc, currency: "AUD" });
        let total = 0;
        for (const line of s.lines) {
          expect(Number.isSafeInteger(line.amountCents)).toBe(true);
          expect(line.amountCents).toBeGreaterThanOrEqual(0);
          expect(line.amountCents).toBeLessThanOrEqual(line.unitPriceCents);
          expect(line.billableMs).toBeGreaterThan(0);
          expect(line.billableMs).toBeLessThanOrEqual(periodLengthMs(sc.period));
          total += line.amountCents;
        }
        expect(s.totalCents).toBe(total);
      }),
    );
  });

  it("never-billable time costs nothing", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const unbillable = sc.events.map((e) => ({
          ...e,
          toState: (["trial", "paused", "suspended", "cancelled", "archived"] as const)[e.sequence % 5]!,
        }));
        const s = invoiceForPeriod({ ...sc, events: unbillable, currency: "AUD" });
        expect(s.totalCents).toBe(0);
        expect(s.lines).toEqual([]);
      }),
    );
  });

  it("a full billable month on one plan version costs exactly its price", () => {
    fc.assert(
      fc.property(periodArb, fc.integer({ min: 0, max: 100_000_000 }), (period, priceCents) => {
        const s = invoiceForPeriod({
          period,
          currency: "AUD",
          subscribedAt: period.start,
          planChanges: [
            {
              planVersion: { id: "pv", planCode: "p", version: 1, priceCents },
              effectiveAt: period.start,
              sequence: 1,
            },
          ],
          attachments: [],
          events: [{ sequence: 1, toState: "active", occurredAt: period.start }],
        });
        expect(s.totalCents).toBe(priceCents);
      }),
    );
  });

  it("splitting the plan at arbitrary instants (same price) changes the charge by at most a cent per split", () => {
    fc.assert(
      fc.property(
        scenario,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (sc, cuts) => {
          const len = periodLengthMs(sc.period);
          const base = sc.planChanges[0]!;
          const whole = invoiceForPeriod({ ...sc, planChanges: [base], currency: "AUD" });
          const from = Math.max(sc.period.start.getTime(), base.effectiveAt.getTime());
          const splitInstants = cuts.map(
            (c) => new Date(Math.max(from, sc.period.start.getTime() + Math.floor(c * len))),
          );
          const split = invoiceForPeriod({
            ...sc,
            currency: "AUD",
            planChanges: [
              base,
              ...splitInstants.map((effectiveAt, i) => ({
                planVersion: { ...base.planVersion, id: `split${i}` },
                effectiveAt,
                sequence: base.sequence + i + 1,
              })),
            ],
          });
          const planTotal = (lines: typeof whole.lines) =>
            lines.filter((l) => l.kind === "plan").reduce((sum, l) => sum + l.amountCents, 0);
          expect(Math.abs(planTotal(split.lines) - planTotal(whole.lines))).toBeLessThanOrEqual(cuts.length);
          const billable = (lines: typeof whole.lines) =>
            lines.filter((l) => l.kind === "plan").reduce((sum, l) => sum + l.billableMs, 0);
          expect(billable(split.lines)).toBe(billable(whole.lines));
        },
      ),
    );
  });
});
