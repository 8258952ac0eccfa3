import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  amountDue,
  applyPayment,
  type InvoiceState,
  invoiceNumber,
  isOverdue,
  issueTerms,
  markUncollectible,
  voidInvoice,
} from "./invoice.ts";

const at = (iso: string) => new Date(iso);

function invoice(totalCents: number, overrides: Partial<InvoiceState> = {}): InvoiceState {
  const issuedAt = at("2027-01-01T00:00:00Z");
  return {
    id: "inv-1",
    number: "INV-ACME-000001",
    totalCents,
    ...issueTerms(totalCents, issuedAt, 7),
    amountPaidCents: 0,
    issuedAt,
    voidedAt: null,
    overdueAt: null,
    ...overrides,
  };
}

describe("invoice lifecycle", () => {
  it("numbers invoices per tenant with at least six digits", () => {
    expect(invoiceNumber("acme", 42)).toBe("INV-ACME-000042");
    expect(invoiceNumber("big-co", 1234567)).toBe("INV-BIG-CO-1234567");
  });

  it("is due after the payment terms, and a zero invoice is issued paid", () => {
    const open = invoice(4900);
    expect(open.status).toBe("open");
    expect(open.dueAt.toISOString()).toBe("2027-01-08T00:00:00.000Z");
    expect(amountDue(open)).toBe(4900);
    const zero = invoice(0);
    expect(zero.status).toBe("paid");
    expect(zero.paidAt?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(amountDue(zero)).toBe(0);
  });

  it("is overdue from its due instant while money is due", () => {
    const open = invoice(4900);
    expect(isOverdue(open, at("2027-01-07T23:59:59.999Z"))).toBe(false);
    expect(isOverdue(open, at("2027-01-08T00:00:00Z"))).toBe(true);
    expect(isOverdue(invoice(0), at("2027-02-01T00:00:00Z"))).toBe(false);
  });

  it("takes partial payments, becomes paid at the total, refuses more than is due", () => {
    const open = invoice(4900);
    expect(applyPayment(open, 1000, at("2027-01-02T00:00:00Z")).ok).toBe(true);
    expect(open.status).toBe("open");
    expect(amountDue(open)).toBe(3900);
    const over = applyPayment(open, 3901, at("2027-01-02T00:00:00Z"));
    expect(over.ok ? "ok" : over.error.code).toBe("OVERPAYMENT");
    expect(open.amountPaidCents).toBe(1000);
    expect(applyPayment(open, 3900, at("2027-01-03T00:00:00Z")).ok).toBe(true);
    expect(open.status).toBe("paid");
    expect(open.paidAt?.toISOString()).toBe("2027-01-03T00:00:00.000Z");
    const again = applyPayment(open, 1, at("2027-01-04T00:00:00Z"));
    expect(again.ok ? "ok" : again.error.code).toBe("INVOICE_NOT_OPEN");
  });

  it("refuses amounts that are not positive whole minor units", () => {
    for (const amount of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      const result = applyPayment(invoice(4900), amount, at("2027-01-02T00:00:00Z"));
      expect(result.ok ? "ok" : result.error.code).toBe("VALIDATION_FAILED");
    }
  });

  it("voids only an open invoice without payments; marks uncollectible any open one", () => {
    const open = invoice(4900);
    expect(voidInvoice(open, at("2027-01-02T00:00:00Z")).ok).toBe(true);
    expect(open.status).toBe("void");
    expect(open.voidedAt?.toISOString()).toBe("2027-01-02T00:00:00.000Z");
    const partlyPaid = invoice(4900, { amountPaidCents: 100 });
    const refused = voidInvoice(partlyPaid, at("2027-01-02T00:00:00Z"));
    expect(refused.ok ? "ok" : refused.error.code).toBe("CONFLICT");
    expect(markUncollectible(partlyPaid, at("2027-01-02T00:00:00Z")).ok).toBe(true);
    expect(partlyPaid.status).toBe("uncollectible");
    expect(amountDue(partlyPaid)).toBe(0);
    const twice = markUncollectible(partlyPaid, at("2027-01-02T00:00:00Z"));
    expect(twice.ok ? "ok" : twice.error.code).toBe("INVOICE_NOT_OPEN");
  });

  it("property: amount paid is the sum of accepted payments and never exceeds the total", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("pay" as const), amount: fc.integer({ min: -10, max: 600_000 }) }),
            fc.record({ kind: fc.constantFrom("void" as const, "uncollectible" as const) }),
          ),
          { maxLength: 30 },
        ),
        (total, operations) => {
          const subject = invoice(total);
          let accepted = 0;
          for (const op of operations) {
            const now = at("2027-01-05T00:00:00Z");
            if (op.kind === "pay") {
              const result = applyPayment(subject, op.amount, now);
              if (result.ok) accepted += op.amount;
            } else if (op.kind === "void") voidInvoice(subject, now);
            else markUncollectible(subject, now);
            expect(subject.amountPaidCents).toBe(accepted);
            expect(subject.amountPaidCents).toBeLessThanOrEqual(subject.totalCents);
            expect(subject.status === "paid").toBe(subject.amountPaidCents === subject.totalCents);
            expect(amountDue(subject)).toBe(subject.status === "open" ? total - accepted : 0);
          }
        },
      ),
    );
  });
});
