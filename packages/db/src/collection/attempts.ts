import {
  applyPayment,
  type ChargeOutcome,
  chargeKey,
  type Invoice,
  type LookupOutcome,
  type Payment,
  settlementDue,
  settlementReason,
  unwrap,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { recordInvoiceEvents } from "../events/outbox.ts";
import { INVOICE_COLUMNS, invoiceFromRow } from "../mapping/billing.ts";
import { PAYMENT_COLUMNS, paymentFromRow } from "../mapping/collection.ts";
import { retryOnConflict } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { inTransaction, type Sql } from "../shared/sql.ts";
import { recordPaymentEvent } from "./collection-events.ts";
import {
  ATTEMPT_LEASE_MS,
  collectionDueBy,
  collectionTransition,
  loadCollectionSubjects,
  scheduleCollection,
  writeSystemTransitions,
} from "./collection-state.ts";
import type { PaymentProviders } from "./sandbox-provider.ts";

/** Where collection's transactions run: fresh ones from the pool, or all inside `within`. */
export interface CollectionDb {
  readonly em: EntityManager;
  readonly within?: EntityManager;
}

const transactionOf = (db: CollectionDb) => db.within ?? db.em.fork();

/**
 * A transaction of collection's, run again if PostgreSQL rolls it back to break a deadlock with
 * another pass (`retryOnConflict`). Inside an advance there is no one to cross — it holds the
 * sandbox's rows — and a retry could not undo the advance's own rollback, so it runs once.
 */
export function retriedUnlessWithin<T>(db: CollectionDb, transaction: () => Promise<T>): Promise<T> {
  return db.within ? transaction() : retryOnConflict(transaction);
}

/** A payment attempt to send to (or reconcile with) its provider, outside any transaction. */
export interface AttemptToRun {
  readonly paymentId: string;
  readonly invoiceId: string;
  readonly attempt: number;
  readonly amountCents: number;
  readonly currency: string;
  readonly provider: string;
  /** The token to charge when the provider has never seen the key (null: the method is gone). */
  readonly token: string | null;
  /** `charge`: a fresh attempt; `reconcile`: a pending or unknown one left by an earlier pass. */
  readonly mode: "charge" | "reconcile";
}

export interface AttemptResult {
  readonly payment: Payment;
  readonly settled: boolean;
  /** False when another worker had recorded this attempt's answer already (nothing changed). */
  readonly recorded: boolean;
}

/**
 * With no overdue invoice left, undoes the state collection made (past_due/suspended → active), in
 * the caller's transaction, unless the operator override holds the deployment. The deployment must
 * be locked by the caller. Collection looks at the deployment again now either way.
 */
export async function settleIfClear(
  sql: Sql,
  deploymentId: string,
  now: Date,
  cause: { invoiceNumber: string; outcome: "paid" | "void" | "uncollectible" } | null,
): Promise<boolean> {
  const [loaded] = await loadCollectionSubjects(sql, [deploymentId]);
  let settled = false;
  if (loaded && !loaded.subject.billingActionSuspended && settlementDue(loaded.subject, now)) {
    const reason = settlementReason(cause?.invoiceNumber ?? null, cause?.outcome ?? null);
    await writeSystemTransitions(
      sql,
      [collectionTransition(loaded.deployment, "active", reason, newId(), now)],
      now,
    );
    settled = true;
  }
  await collectionDueBy(sql, [deploymentId], now);
  return settled;
}

/** Locks the deployment of an invoice, then the invoice (the order every collection write takes). */
export async function lockInvoice(sql: Sql, invoiceId: string): Promise<Invoice | null> {
  const [owner] = await sql<{ deployment_id: string }>("select deployment_id from statements where id = $1", [
    invoiceId,
  ]);
  if (!owner) return null;
  await sql("select id from deployments where id = $1 for no key update", [owner.deployment_id]);
  const [row] = await sql(`select ${INVOICE_COLUMNS("s")} from statements s where s.id = $1 for update`, [
    invoiceId,
  ]);
  return row ? invoiceFromRow(row) : null;
}

/** Applies a succeeded amount to a locked invoice (the domain decides), and settles when it is paid. */
export async function creditInvoice(
  sql: Sql,
  invoice: Invoice,
  amountCents: number,
  now: Date,
): Promise<boolean> {
  unwrap(applyPayment(invoice, amountCents, now));
  await sql("update statements set amount_paid_cents = $1, status = $2, paid_at = $3 where id = $4", [
    invoice.amountPaidCents,
    invoice.status,
    invoice.paidAt,
    invoice.id,
  ]);
  if (invoice.status !== "paid") return false;
  await recordInvoiceEvents(sql, [{ type: "invoice.paid", invoiceId: invoice.id, occurredAt: now }]);
  return settleIfClear(sql, invoice.deploymentId, now, { invoiceNumber: invoice.number, outcome: "paid" });
}

/**
 * Records what the provider answered for an attempt, exactly once: only a pending or unknown
 * attempt takes an answer (a racing recorder finds it settled and changes nothing). A success is
 * credited to the invoice in the same transaction, which settles the deployment when nothing
 * overdue is left.
 */
export async function recordAttemptOutcome(
  orm: CollectionDb,
  attempt: Pick<AttemptToRun, "paymentId" | "invoiceId">,
  outcome: ChargeOutcome,
  now: Date,
): Promise<AttemptResult> {
  return inTransaction(transactionOf(orm), async (sql) => {
    const invoice = await lockInvoice(sql, attempt.invoiceId);
    const [row] = await sql(`select ${PAYMENT_COLUMNS} from payments where id = $1 for update`, [
      attempt.paymentId,
    ]);
    const payment = paymentFromRow(row!);
    if (!invoice || (payment.status !== "pending" && payment.status !== "unknown")) {
      return { payment, settled: false, recorded: false };
    }
    let settled = false;
    if (outcome.status === "unknown") {
      payment.status = "unknown";
      await scheduleCollection(sql, [
        { deploymentId: invoice.deploymentId, dueAt: new Date(now.getTime() + ATTEMPT_LEASE_MS) },
      ]);
    } else {
      payment.status = outcome.status;
      payment.providerRef = outcome.providerRef ?? null;
      payment.failureCode = outcome.status === "failed" ? outcome.code : null;
      payment.retryable = outcome.status === "failed" ? outcome.retryable : null;
      payment.settledAt = now;
      if (outcome.status === "succeeded" && invoice.status === "open") {
        settled = await creditInvoice(sql, invoice, payment.amountCents, now);
      }
      await collectionDueBy(sql, [invoice.deploymentId], now);
    }
    await sql(
      "update payments set status = $1, provider_ref = $2, failure_code = $3, retryable = $4, settled_at = $5 where id = $6",
      [
        payment.status,
        payment.providerRef,
        payment.failureCode,
        payment.retryable,
        payment.settledAt,
        payment.id,
      ],
    );
    await recordPaymentEvent(sql, payment, now);
    if (payment.status === "failed") {
      await recordInvoiceEvents(sql, [
        { type: "invoice.payment_failed", invoiceId: invoice.id, occurredAt: now },
      ]);
    }
    return { payment, settled, recorded: true };
  });
}

/**
 * Sends one attempt to its provider with key `<invoiceId>:<attempt>` and records the answer. A
 * reconciliation asks `lookup` first; only a key the provider has never seen is charged (with the
 * same key, so a charge racing it still happens once). A provider that throws answered `unknown`.
 */
export async function runAttempt(
  orm: CollectionDb,
  providers: PaymentProviders,
  attempt: AttemptToRun,
  now: Date,
): Promise<AttemptResult> {
  const provider = providers.get(attempt.provider);
  const idempotencyKey = chargeKey(attempt.invoiceId, attempt.attempt);
  let outcome: ChargeOutcome;
  try {
    if (!provider) throw new Error(`no payment provider named ${attempt.provider}`);
    let known: LookupOutcome = { status: "not_found" };
    if (attempt.mode === "reconcile") known = await provider.lookup(idempotencyKey);
    if (known.status !== "not_found") outcome = known;
    else if (attempt.token === null)
      outcome = { status: "failed", code: "payment_method_removed", retryable: false };
    else {
      outcome = await provider.charge({
        invoiceId: attempt.invoiceId,
        amountCents: attempt.amountCents,
        currency: attempt.currency,
        paymentMethodToken: attempt.token,
        idempotencyKey,
      });
    }
  } catch {
    outcome = { status: "unknown" };
  }
  return retriedUnlessWithin(orm, () => recordAttemptOutcome(orm, attempt, outcome, now));
}
