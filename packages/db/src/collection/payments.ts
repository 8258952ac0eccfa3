import {
  amountDue,
  canSeeTenant,
  checkPayment,
  collectionPlan,
  DomainError,
  type Invoice,
  isOverdue,
  markUncollectible,
  PAYMENT_REFERENCE_MAX,
  type Payment,
  type PlannedAction,
  type Principal,
  requirePlatformAdmin,
  requireWriter,
  unwrap,
  voidInvoice as voidOpenInvoice,
} from "@arcadia/domain";
import { type InvoiceDocument, withLines } from "../billing/invoices.ts";
import { findVisibleDeployment } from "../deployments/deployments.ts";
import { recordInvoiceEvents } from "../events/outbox.ts";
import { INVOICE_COLUMNS, invoiceFromRow } from "../mapping/billing.ts";
import { PAYMENT_COLUMNS, paymentFromRow } from "../mapping/collection.ts";
import type { Orm } from "../orm.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound } from "../shared/lookup.ts";
import { inTransaction, type Sql, withConnection } from "../shared/sql.ts";
import { type AttemptToRun, creditInvoice, lockInvoice, runAttempt, settleIfClear } from "./attempts.ts";
import { recordPaymentEvent } from "./collection-events.ts";
import { loadCollectionSubjects } from "./collection-state.ts";
import type { PaymentProviders } from "./sandbox-provider.ts";

/** What charging needs besides the context: its own connections (attempts commit on their own) and the providers. */
export interface CollectionDeps {
  readonly orm: Orm;
  readonly providers: PaymentProviders;
}

/** The invoice if the principal may see it (another tenant's is NOT_FOUND, checked before any role). */
async function visibleInvoice(sql: Sql, principal: Principal, id: string, lock: boolean): Promise<Invoice> {
  const invoice = isUuid(id)
    ? lock
      ? await lockInvoice(sql, id)
      : await sql(`select ${INVOICE_COLUMNS("s")} from statements s where s.id = $1`, [id]).then((rows) =>
          rows[0] ? invoiceFromRow(rows[0]) : null,
        )
    : null;
  if (!invoice || !canSeeTenant(principal, invoice.tenantId)) throw notFound("Invoice");
  return invoice;
}

async function refuseWhileInFlight(sql: Sql, invoice: Invoice): Promise<void> {
  const [busy] = await sql(
    "select 1 from payments where invoice_id = $1 and status in ('pending', 'unknown') limit 1",
    [invoice.id],
  );
  if (busy) {
    throw new DomainError(
      "CONFLICT",
      `A payment attempt on invoice ${invoice.number} awaits its result; try again once it is reconciled.`,
      { invoiceId: invoice.id },
    );
  }
}

/** An invoice's payments and attempts, oldest first. */
export async function listPayments(
  ctx: UseCaseContext,
  principal: Principal,
  invoiceId: string,
): Promise<Payment[]> {
  return withConnection(ctx.sqlEm, async (sql) => {
    const invoice = await visibleInvoice(sql, principal, invoiceId, false);
    const rows = await sql(
      `select ${PAYMENT_COLUMNS} from payments where invoice_id = $1 order by created_at, id`,
      [invoice.id],
    );
    return rows.map(paymentFromRow);
  });
}

/**
 * An operator records money received outside any provider (partial allowed). In one transaction:
 * the payment, the invoice's new amount (paid at the total), and settlement of the deployment.
 */
export async function recordManualPayment(
  ctx: UseCaseContext,
  principal: Principal,
  invoiceId: string,
  input: { amountCents: number; reference?: string | null },
): Promise<Payment> {
  return inTransaction(ctx.sqlEm, async (sql) => {
    const invoice = await visibleInvoice(sql, principal, invoiceId, true);
    unwrap(requirePlatformAdmin(principal));
    if (input.reference != null && [...input.reference].length > PAYMENT_REFERENCE_MAX) {
      throw new DomainError("VALIDATION_FAILED", "The reference is too long.", {
        fields: { reference: `must be at most ${PAYMENT_REFERENCE_MAX} characters` },
      });
    }
    unwrap(checkPayment(invoice, input.amountCents));
    await refuseWhileInFlight(sql, invoice);
    const now = await ctx.clock.tenantNow(sql, invoice.tenantId);
    const [row] = await sql(
      `insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, status, reference, created_at, settled_at)
       values ($1, $2, $3, $4, $5, 'manual', 'succeeded', $6, $7, $7) returning ${PAYMENT_COLUMNS}`,
      [
        ctx.newId(),
        invoice.id,
        invoice.tenantId,
        input.amountCents,
        invoice.currency,
        input.reference ?? null,
        now,
      ],
    );
    const payment = paymentFromRow(row!);
    // The payment's event first: then the invoice's (paid) and the deployment's (settled), as they happened.
    await recordPaymentEvent(sql, payment, now);
    await creditInvoice(sql, invoice, input.amountCents, now);
    return payment;
  });
}

/**
 * Charges the tenant's payment method now (admins). The attempt is recorded `pending` and
 * committed before the provider is called, then the answer is recorded — as the worker does.
 */
export async function payInvoice(
  ctx: UseCaseContext,
  principal: Principal,
  invoiceId: string,
  deps: CollectionDeps,
): Promise<Payment> {
  let now = ctx.clock.wallNow();
  const attempt = await inTransaction(deps.orm.em.fork(), async (sql): Promise<AttemptToRun> => {
    const invoice = await visibleInvoice(sql, principal, invoiceId, true);
    unwrap(requireWriter(principal));
    now = await ctx.clock.tenantNow(sql, invoice.tenantId);
    if (invoice.status !== "open") {
      throw new DomainError("INVOICE_NOT_OPEN", `Invoice ${invoice.number} is ${invoice.status}.`, {
        invoiceId: invoice.id,
        status: invoice.status,
      });
    }
    const [method] = await sql<{ id: string; provider: string; token: string }>(
      "select id, provider, token from payment_methods where tenant_id = $1",
      [invoice.tenantId],
    );
    if (!method) {
      throw new DomainError("NO_PAYMENT_METHOD", "The tenant has no payment method.", {
        tenantId: invoice.tenantId,
      });
    }
    await refuseWhileInFlight(sql, invoice);
    const [last] = await sql<{ n: number }>(
      "select coalesce(max(attempt), 0)::int as n from payments where invoice_id = $1",
      [invoice.id],
    );
    const next = (last?.n ?? 0) + 1;
    const id = ctx.newId();
    await sql(
      `insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, provider, status, attempt, payment_method_id, created_at)
       values ($1, $2, $3, $4, $5, 'provider', $6, 'pending', $7, $8, $9)`,
      [
        id,
        invoice.id,
        invoice.tenantId,
        amountDue(invoice),
        invoice.currency,
        method.provider,
        next,
        method.id,
        now,
      ],
    );
    return {
      paymentId: id,
      invoiceId: invoice.id,
      attempt: next,
      amountCents: amountDue(invoice),
      currency: invoice.currency,
      provider: method.provider,
      token: method.token,
      mode: "charge",
    };
  });
  return (await runAttempt(deps.orm, deps.providers, attempt, now)).payment;
}

async function closeInvoice(
  ctx: UseCaseContext,
  principal: Principal,
  invoiceId: string,
  outcome: "void" | "uncollectible",
): Promise<Invoice> {
  return inTransaction(ctx.sqlEm, async (sql) => {
    const invoice = await visibleInvoice(sql, principal, invoiceId, true);
    unwrap(requirePlatformAdmin(principal));
    const now = await ctx.clock.tenantNow(sql, invoice.tenantId);
    unwrap(outcome === "void" ? voidOpenInvoice(invoice, now) : markUncollectible(invoice, now));
    await refuseWhileInFlight(sql, invoice);
    await sql("update statements set status = $1, voided_at = $2 where id = $3", [
      invoice.status,
      invoice.voidedAt,
      invoice.id,
    ]);
    const type = outcome === "void" ? "invoice.voided" : "invoice.marked_uncollectible";
    await recordInvoiceEvents(sql, [{ type, invoiceId: invoice.id, occurredAt: now }]);
    await settleIfClear(sql, invoice.deploymentId, now, { invoiceNumber: invoice.number, outcome });
    return invoice;
  });
}

/** Voids an open invoice without succeeded payments (platform admins); its dunning stops. */
export function voidInvoice(ctx: UseCaseContext, principal: Principal, invoiceId: string): Promise<Invoice> {
  return closeInvoice(ctx, principal, invoiceId, "void");
}

/** Gives up on an open invoice (platform admins); its dunning stops, what was paid stays. */
export function markInvoiceUncollectible(
  ctx: UseCaseContext,
  principal: Principal,
  invoiceId: string,
): Promise<Invoice> {
  return closeInvoice(ctx, principal, invoiceId, "uncollectible");
}

export interface CollectionPreview {
  readonly deploymentId: string;
  readonly amountDueCents: number;
  readonly overdueInvoices: InvoiceDocument[];
  readonly nextActions: PlannedAction[];
}

/**
 * What collection will do for a deployment and when, if nothing is paid (SPEC §3.8): the same pure
 * plan the worker takes its due work from. Under the operator override nothing will happen.
 */
export async function collectionPreview(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
): Promise<CollectionPreview> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const now = await ctx.clock.tenantNow(ctx.em, deployment.tenantId);
  const [loaded] = await withConnection(ctx.sqlEm, (sql) => loadCollectionSubjects(sql, [deployment.id]));
  const invoices = [...(loaded?.invoices.values() ?? [])].sort(
    (a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.number.localeCompare(b.number),
  );
  return {
    deploymentId: deployment.id,
    amountDueCents: invoices.reduce((sum, invoice) => sum + amountDue(invoice), 0),
    overdueInvoices: await withLines(
      ctx.em,
      invoices.filter((i) => isOverdue(i, now)),
    ),
    nextActions: !loaded || loaded.subject.billingActionSuspended ? [] : collectionPlan(loaded.subject, now),
  };
}
