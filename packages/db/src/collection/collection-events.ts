import type { Payment } from "@arcadia/domain";
import { recordEvents } from "../events/outbox.ts";
import { presentPayment } from "../presenters/presenters.ts";
import type { Sql } from "../shared/sql.ts";

/**
 * Collection's payment events (SPEC §3.9), written in the transaction of the change they describe,
 * with the payment as the API shows it after the change. (Its invoice events go through the
 * outbox's `recordInvoiceEvents`; its deployment transitions record theirs in
 * `writeSystemTransitions`, the one place they are written.)
 */

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
