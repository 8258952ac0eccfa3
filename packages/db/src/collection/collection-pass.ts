import {
  amountDue,
  COLLECTION_ACTOR_ID,
  dueCollectionWork,
  type Invoice,
  settlementReason,
  transitionDeployment,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ORDINARY_TENANTS, type PassScope, scopeCondition } from "../billing/rollover.ts";
import { type InvoiceEvent, recordInvoiceEvents } from "../events/outbox.ts";
import type { Orm } from "../orm.ts";
import { newId } from "../shared/ids.ts";
import { inTransaction, type Sql } from "../shared/sql.ts";
import { type AttemptToRun, type CollectionDb, retriedUnlessWithin, runAttempt } from "./attempts.ts";
import {
  ATTEMPT_LEASE_MS,
  loadCollectionSubjects,
  type SystemTransition,
  scheduleCollection,
  writeSystemTransitions,
} from "./collection-state.ts";
import type { PaymentProviders } from "./sandbox-provider.ts";

export interface CollectionOptions {
  readonly now: Date;
  /**
   * Ordinary tenants (the default: the real-time worker leaves sandboxes alone) or one sandbox
   * tenant at an instant of its test clock (an advance runs collection at each due instant).
   */
  readonly scope?: PassScope;
  readonly providers: PaymentProviders;
  /** Deployments claimed per transaction. */
  readonly batchSize?: number;
  /** Batches in flight at once (SKIP LOCKED keeps their claims apart). Default 2. */
  readonly concurrency?: number;
  /** Provider calls in flight at once per batch. Default 4. */
  readonly chargeConcurrency?: number;
  readonly workerId?: string;
  readonly shouldStop?: () => boolean;
  /**
   * An open transaction to run in (a test clock's advance, which holds the tenant's rows): every
   * batch, attempt record and settlement joins it, one at a time. The provider still keeps its own
   * books on a connection of its own.
   */
  readonly within?: EntityManager;
}

export interface CollectionSummary {
  readonly deploymentsProcessed: number;
  readonly charges: { attempted: number; succeeded: number; failed: number; unknown: number };
  readonly reconciled: number;
  readonly transitions: Record<"past_due" | "suspended" | "cancelled" | "archived" | "settled", number>;
  readonly skipped: number;
  readonly batches: number;
}

interface Batch {
  readonly claimed: number;
  readonly attempts: AttemptToRun[];
  readonly transitions: SystemTransition[];
  readonly skipped: number;
}

/**
 * One batch, one transaction: claim deployments whose collection is due (SKIP LOCKED on the
 * schedule row and the deployment), decide with the domain what is due for each, write the ladder's
 * transitions set-wise, record every new payment attempt `pending` (unique per invoice and attempt
 * number, so a racing worker's insert of the same attempt is a no-op), and move each deployment's
 * appointment on. The provider is called only after this commits.
 */
async function claimBatch(
  db: CollectionDb,
  now: Date,
  batchSize: number,
  actorId: string,
  scope: PassScope,
): Promise<Batch> {
  return inTransaction(db.within ?? db.em.fork(), async (sql) => {
    const inScope = scopeCondition(scope, "d.tenant_id", "$3");
    const claimed = await sql<{ deployment_id: string }>(
      `select c.deployment_id from collection_schedule c join deployments d on d.id = c.deployment_id
        where c.due_at <= $1 and ${inScope.sql} order by c.due_at, c.deployment_id limit $2
        for update of c skip locked for no key update of d skip locked`,
      [now, batchSize, ...inScope.params],
    );
    if (claimed.length === 0) return { claimed: 0, attempts: [], transitions: [], skipped: 0 };
    const ids = claimed.map((c) => c.deployment_id);
    const subjects = await loadCollectionSubjects(sql, ids);
    const anyInFlight = subjects.some((s) => s.subject.invoices.some((i) => i.attemptInFlight));
    const inFlight = !anyInFlight
      ? []
      : await sql<{
          id: string;
          invoice_id: string;
          attempt: number;
          amount_cents: string;
          currency: string;
          provider: string;
          token: string | null;
        }>(
          `select p.id, p.invoice_id, p.attempt, p.amount_cents, p.currency, p.provider, m.token
         from payments p join statements s on s.id = p.invoice_id
         left join payment_methods m on m.tenant_id = p.tenant_id and m.id = p.payment_method_id
        where s.deployment_id = any($1::uuid[]) and p.status in ('pending', 'unknown')`,
          [ids],
        );
    const attempts: AttemptToRun[] = inFlight.map((p) => ({
      paymentId: p.id,
      invoiceId: p.invoice_id,
      attempt: Number(p.attempt),
      amountCents: Number(p.amount_cents),
      currency: p.currency,
      provider: p.provider,
      token: p.token,
      mode: "reconcile",
    }));
    const busy = new Set(inFlight.map((p) => p.invoice_id));
    const transitions: SystemTransition[] = [];
    const newAttempts: Record<string, unknown>[] = [];
    const appointments: { deploymentId: string; dueAt: Date | null }[] = [];
    const overdue: Invoice[] = [];
    let skipped = 0;
    for (const { deployment, subject, invoices, paymentMethod } of subjects) {
      // An attempt whose result is not known yet is reconciled first: the ladder waits for its answer.
      // No lease here: if this worker dies while reconciling, another takes it over at once (a
      // second lookup is harmless, and a charge it makes carries the same key).
      if (inFlight.some((p) => invoices.has(p.invoice_id))) {
        appointments.push({ deploymentId: deployment.id, dueAt: now });
        continue;
      }
      const work = dueCollectionWork(subject, now);
      if (work.skipped) skipped += 1;
      for (const id of work.overdue) overdue.push(invoices.get(id)!);
      const steps = [
        ...(work.settle ? [{ to: "active" as const, reason: settlementReason(null, null) }] : []),
        ...work.transitions,
      ];
      for (const step of steps) {
        const event = transitionDeployment(deployment, {
          to: step.to,
          actor: { type: "system", id: actorId },
          reason: step.reason,
          eventId: newId(),
          now,
        });
        if (!event.ok) break; // a state the ladder cannot leave (the map decides); nothing more this time
        transitions.push({ deployment, event: event.value });
      }
      let charging = false;
      if (paymentMethod) {
        for (const charge of work.charges) {
          const invoice = invoices.get(charge.invoiceId);
          if (!invoice || busy.has(invoice.id)) continue;
          charging = true;
          newAttempts.push({
            id: newId(),
            invoice_id: invoice.id,
            tenant_id: invoice.tenantId,
            amount_cents: amountDue(invoice),
            currency: invoice.currency,
            provider: paymentMethod.provider,
            attempt: charge.attempt,
            payment_method_id: paymentMethod.id,
            token: paymentMethod.token,
          });
        }
      }
      appointments.push({
        deploymentId: deployment.id,
        dueAt: charging ? new Date(now.getTime() + ATTEMPT_LEASE_MS) : work.nextAt,
      });
    }
    await writeSystemTransitions(sql, transitions, now);
    await announceOverdue(sql, overdue, now);
    if (newAttempts.length > 0) {
      const inserted = await sql<{ id: string }>(
        `insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, provider, status, attempt, payment_method_id, created_at)
         select id, invoice_id, tenant_id, amount_cents, currency, 'provider', provider, 'pending', attempt, payment_method_id, $2
           from jsonb_to_recordset($1::jsonb) as i(id uuid, invoice_id uuid, tenant_id uuid, amount_cents bigint, currency text,
                provider text, attempt int, payment_method_id uuid)
         on conflict (invoice_id, attempt) do nothing
         returning id`,
        [JSON.stringify(newAttempts), now],
      );
      const fresh = new Set(inserted.map((r) => r.id));
      for (const a of newAttempts) {
        if (!fresh.has(a.id as string)) continue;
        attempts.push({
          paymentId: a.id as string,
          invoiceId: a.invoice_id as string,
          attempt: a.attempt as number,
          amountCents: a.amount_cents as number,
          currency: a.currency as string,
          provider: a.provider as string,
          token: a.token as string,
          mode: "charge",
        });
      }
    }
    await scheduleCollection(sql, appointments);
    return { claimed: claimed.length, attempts, transitions, skipped };
  });
}

/** Marks invoices overdue (once: a racing pass that did so first wins) and records `invoice.overdue`. */
async function announceOverdue(sql: Sql, invoices: readonly Invoice[], now: Date): Promise<void> {
  if (invoices.length === 0) return;
  const marked = await sql<{ id: string }>(
    "update statements set overdue_at = $2 where id = any($1::uuid[]) and overdue_at is null returning id",
    [invoices.map((i) => i.id), now],
  );
  const fresh = new Set(marked.map((r) => r.id));
  const changes: InvoiceEvent[] = [];
  for (const invoice of invoices) {
    if (!fresh.has(invoice.id)) continue;
    invoice.overdueAt = now;
    changes.push({ type: "invoice.overdue", invoiceId: invoice.id, occurredAt: now });
  }
  await recordInvoiceEvents(sql, changes);
}

async function inPool<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

/**
 * One collection pass at `now` (SPEC §3.8): in bounded batches until nothing is due, charge what
 * is due, reconcile attempts left pending or unknown, walk the dunning ladder, settle what is
 * clear. Safe to run in any number of processes at once and to rerun after a crash.
 */
export async function runCollectionPass(
  orm: { readonly em: EntityManager },
  options: CollectionOptions,
): Promise<CollectionSummary> {
  const db: CollectionDb = { em: orm.em, within: options.within };
  const { now } = options;
  const batchSize = options.batchSize ?? 500;
  const actorId = options.workerId ?? COLLECTION_ACTOR_ID;
  const stop = () => options.shouldStop?.() ?? false;
  const summary = {
    deploymentsProcessed: 0,
    charges: { attempted: 0, succeeded: 0, failed: 0, unknown: 0 },
    reconciled: 0,
    transitions: { past_due: 0, suspended: 0, cancelled: 0, archived: 0, settled: 0 },
    skipped: 0,
    batches: 0,
  };
  const stream = async () => {
    while (!stop()) {
      const batch = await retriedUnlessWithin(db, () =>
        claimBatch(db, now, batchSize, actorId, options.scope ?? ORDINARY_TENANTS),
      );
      if (batch.claimed === 0) break;
      summary.batches += 1;
      summary.deploymentsProcessed += batch.claimed;
      summary.skipped += batch.skipped;
      for (const { event } of batch.transitions) {
        if (event.toState === "active") summary.transitions.settled += 1;
        else if (event.toState in summary.transitions)
          summary.transitions[event.toState as keyof typeof summary.transitions] += 1;
      }
      await inPool(batch.attempts, options.within ? 1 : (options.chargeConcurrency ?? 4), async (attempt) => {
        const { payment, settled, recorded } = await runAttempt(db, options.providers, attempt, now);
        // A reconciliation another worker (or stream) finished first changed nothing: not counted.
        if (!recorded) return;
        if (attempt.mode === "reconcile") summary.reconciled += 1;
        else summary.charges.attempted += 1;
        if (payment.status === "succeeded") summary.charges.succeeded += 1;
        else if (payment.status === "failed") summary.charges.failed += 1;
        else summary.charges.unknown += 1;
        if (settled) summary.transitions.settled += 1;
      });
    }
  };
  const streams = options.within ? 1 : Math.max(1, options.concurrency ?? 2);
  await Promise.all(Array.from({ length: streams }, stream));
  return summary;
}

/**
 * The next instant collection has something to do for a tenant (a charge, a retry, a ladder step,
 * a reconciliation), or null: the due-instant source a test clock's advance steps through.
 */
export async function nextCollectionDueAt(orm: Orm, tenantId: string): Promise<Date | null> {
  const [row] = await inTransaction(orm.em.fork(), (sql) =>
    sql<{ due_at: Date | null }>(
      `select min(c.due_at) as due_at from collection_schedule c join deployments d on d.id = c.deployment_id
        where d.tenant_id = $1`,
      [tenantId],
    ),
  );
  return row?.due_at ? new Date(row.due_at) : null;
}
