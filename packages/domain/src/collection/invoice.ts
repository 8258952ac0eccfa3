import type { Invoice, InvoiceStatus } from "../billing/invoice.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import type { Cents } from "../shared/money.ts";

export const DAY_MS = 86_400_000;
/** Payment terms when the tenant sets none (SPEC §3.8). */
export const DEFAULT_PAYMENT_TERMS_DAYS = 7;
export const MAX_PAYMENT_TERMS_DAYS = 365;

/** The invoice fields collection reads and changes (a narrower input than the whole invoice). */
export type InvoiceState = Pick<
  Invoice,
  | "id"
  | "number"
  | "totalCents"
  | "status"
  | "amountPaidCents"
  | "issuedAt"
  | "dueAt"
  | "paidAt"
  | "voidedAt"
  | "overdueAt"
>;

/** `totalCents − amountPaidCents` while open; 0 once paid, void or uncollectible. */
export function amountDue(invoice: Pick<Invoice, "status" | "totalCents" | "amountPaidCents">): Cents {
  return invoice.status === "open" ? invoice.totalCents - invoice.amountPaidCents : 0;
}

/** Open with money due and past its due instant. */
export function isOverdue(
  invoice: Pick<Invoice, "status" | "totalCents" | "amountPaidCents" | "dueAt">,
  now: Date,
): boolean {
  return amountDue(invoice) > 0 && now.getTime() >= invoice.dueAt.getTime();
}

/** Per-tenant, gap-free invoice numbers: INV-<TENANT SLUG UPPERCASED>-<serial, at least 6 digits>. */
export function invoiceNumber(tenantSlug: string, serial: number | bigint | string): string {
  return `INV-${tenantSlug.toUpperCase()}-${String(serial).padStart(6, "0")}`;
}

export function validatePaymentTerms(days: number): Result<number> {
  if (!Number.isInteger(days) || days < 0 || days > MAX_PAYMENT_TERMS_DAYS) {
    return fail("VALIDATION_FAILED", "The payment terms are not valid.", {
      fields: { paymentTermsDays: `must be a whole number of days from 0 to ${MAX_PAYMENT_TERMS_DAYS}` },
    });
  }
  return ok(days);
}

/**
 * The status and dates of an invoice at issue: due `paymentTermsDays` after issue; an invoice
 * with nothing to pay is issued paid.
 */
export function issueTerms(
  totalCents: Cents,
  issuedAt: Date,
  paymentTermsDays: number,
): { status: InvoiceStatus; dueAt: Date; paidAt: Date | null } {
  const dueAt = new Date(issuedAt.getTime() + paymentTermsDays * DAY_MS);
  return totalCents === 0
    ? { status: "paid", dueAt, paidAt: issuedAt }
    : { status: "open", dueAt, paidAt: null };
}

function requireOpen(invoice: InvoiceState): Result<void> {
  if (invoice.status !== "open") {
    return fail("INVOICE_NOT_OPEN", `Invoice ${invoice.number} is ${invoice.status}.`, {
      invoiceId: invoice.id,
      status: invoice.status,
    });
  }
  return ok(undefined);
}

/** A payment amount: a positive whole number of minor units. */
export function validatePaymentAmount(amountCents: unknown): Result<Cents> {
  if (typeof amountCents !== "number" || !Number.isSafeInteger(amountCents) || amountCents <= 0) {
    return fail("VALIDATION_FAILED", "The amount is not valid.", {
      fields: { amountCents: "must be a positive whole number of minor units" },
    });
  }
  return ok(amountCents);
}

/** Whether this amount may be paid on the invoice now: open, and no more than is due. */
export function checkPayment(invoice: InvoiceState, amountCents: Cents): Result<void> {
  const amount = validatePaymentAmount(amountCents);
  if (!amount.ok) return amount;
  const open = requireOpen(invoice);
  if (!open.ok) return open;
  const due = amountDue(invoice);
  if (amountCents > due) {
    return fail("OVERPAYMENT", `Only ${due} is due on invoice ${invoice.number}.`, {
      invoiceId: invoice.id,
      amountDueCents: due,
      amountCents,
    });
  }
  return ok(undefined);
}

/**
 * Applies a succeeded payment: the amount paid grows; reaching the total makes the invoice paid.
 * Refused (nothing changes) when the invoice is not open or the amount is more than is due.
 */
export function applyPayment(invoice: InvoiceState, amountCents: Cents, at: Date): Result<InvoiceState> {
  const checked = checkPayment(invoice, amountCents);
  if (!checked.ok) return checked;
  invoice.amountPaidCents += amountCents;
  if (invoice.amountPaidCents === invoice.totalCents) {
    invoice.status = "paid";
    invoice.paidAt = at;
  }
  return ok(invoice);
}

/** Voids an open invoice that has no succeeded payment (one with money received is marked uncollectible instead). */
export function voidInvoice(invoice: InvoiceState, now: Date): Result<InvoiceState> {
  const open = requireOpen(invoice);
  if (!open.ok) return open;
  if (invoice.amountPaidCents > 0) {
    return fail(
      "CONFLICT",
      `Invoice ${invoice.number} has succeeded payments; mark it uncollectible instead.`,
      {
        invoiceId: invoice.id,
        amountPaidCents: invoice.amountPaidCents,
      },
    );
  }
  invoice.status = "void";
  invoice.voidedAt = now;
  return ok(invoice);
}

/** Gives up on an open invoice: it stops its dunning; what was paid stays paid. */
export function markUncollectible(invoice: InvoiceState, _now: Date): Result<InvoiceState> {
  const open = requireOpen(invoice);
  if (!open.ok) return open;
  invoice.status = "uncollectible";
  return ok(invoice);
}
