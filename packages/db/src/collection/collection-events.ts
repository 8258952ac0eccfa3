import type { EventType, Invoice, Payment } from "@arcadia/domain";
import { type NewEvent, recordEvents } from "../events/outbox.ts";
import { INVOICE_LINE_COLUMNS, lineFromRow } from "../mapping/billing.ts";
import { presentInvoice, presentPayment } from "../presenters/presenters.ts";
import type { Sql } from "../shared/sql.ts";

/**
 * Collection's invoice and payment events (SPEC §3.9), written in the transaction of the change they
 * describe, each with the resource as the API shows it after the change. (Its deployment transitions
 * record theirs in `writeSystemTransitions`, the one place they are written.)
 */

/** An invoice's change (`invoice.paid`, `.payment_failed`, `.overdue`, `.voided`, `.marked_uncollectible`). */
export interface InvoiceChange {
  readonly type: Extract<EventType, `invoice.${string}`>;
  /** The invoice after the change. */
  readonly invoice: Invoice;
}

/** Records invoice events set-wise: the invoices' lines in one query, then one insert. */
export async function recordInvoiceEvents(
  sql: Sql,
  changes: readonly InvoiceChange[],
  at: Date,
): Promise<void> {
  if (changes.length === 0) return;
  const rows = await sql(
    `select ${INVOICE_LINE_COLUMNS} from statement_lines where statement_id = any($1::uuid[]) order by statement_id, position`,
    [[...new Set(changes.map((c) => c.invoice.id))]],
  );
  const linesOf = new Map<string, ReturnType<typeof lineFromRow>[]>();
  for (const row of rows) {
    const line = lineFromRow(row);
    linesOf.set(line.invoiceId, [...(linesOf.get(line.invoiceId) ?? []), line]);
  }
  await recordEvents(
    sql,
    changes.map(
      ({ type, invoice }): NewEvent => ({
        type,
        tenantId: invoice.tenantId,
        occurredAt: at,
        data: presentInvoice({ invoice, lines: linesOf.get(invoice.id) ?? [] }),
      }),
    ),
  );
}

/** `payment.succeeded` or `payment.failed` for a payment that has its final answer (pending and unknown have none). */
export async function recordPaymentEvent(sql: Sql, payment: Payment, at: Date): Promise<void> {
  if (payment.status !== "succeeded" && payment.status !== "failed") return;
  await recordEvents(sql, [
    {
      type: payment.status === "succeeded" ? "payment.succeeded" : "payment.failed",
      tenantId: payment.tenantId,
      occurredAt: at,
      data: presentPayment(payment),
    },
  ]);
}
