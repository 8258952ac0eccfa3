import type { EventType } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { INVOICE_JSON } from "../presenters/json-reads.ts";
import { newId } from "../shared/ids.ts";
import { type Sql, sqlOn } from "../shared/sql.ts";

/** An event about to be recorded: what changed (`type`), whose, when, and the resource after it. */
export interface NewEvent {
  readonly type: EventType;
  /** Null for a platform event (seen by platform admins and sent to platform-wide endpoints only). */
  readonly tenantId: string | null;
  /** The change's instant (the tenant's clock, like every other instant of the change). */
  readonly occurredAt: Date;
  /** The resource as the API shows it after the change: a presenter's output (`presenters.ts`). */
  readonly data: unknown;
  /** Defaults to a fresh UUIDv7 (from the wall clock, like every id: a sandbox's clock never stamps ids). */
  readonly id?: string;
}

/**
 * Where events are written: the open transaction of the change, as a plain-SQL connection
 * (`inTransaction`'s `sql`) or as the entity manager inside `em.transactional`.
 */
export type EventTransaction = Sql | EntityManager;

const INSERT_EVENTS_COLUMNS = `insert into events (id, tenant_id, type, occurred_at, data)
  select id, tenant_id, type, occurred_at, data
    from jsonb_to_recordset(PARAM::jsonb) as e(id uuid, tenant_id uuid, type text, occurred_at timestamptz, data jsonb)`;

/**
 * The transactional outbox: records `events` in the transaction of the change they describe, in
 * one query however many there are (set-wise writes record set-wise). Call it inside the
 * change's transaction and nowhere else: a rolled-back change then leaves no event, and a
 * committed one always has its event. The database stamps each row with the writing
 * transaction's id, which is what makes the feed exactly-once (`events.ts`).
 *
 *     await recordEvents(sql, [{ type: "invoice.paid", tenantId, occurredAt: now, data: presentInvoice(doc) }]);
 */
export async function recordEvents(tx: EventTransaction, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(
    events.map((e) => ({
      id: e.id ?? newId(),
      tenant_id: e.tenantId,
      type: e.type,
      occurred_at: e.occurredAt.toISOString(),
      data: e.data,
    })),
  );
  if (typeof tx === "function") await tx(INSERT_EVENTS_COLUMNS.replace("PARAM", "$1"), [rows]);
  else await sqlOn(tx)(INSERT_EVENTS_COLUMNS.replace("PARAM", "?"), [rows]);
}

/** `recordEvents` for a single event. */
export function recordEvent(tx: EventTransaction, event: NewEvent): Promise<void> {
  return recordEvents(tx, [event]);
}

/** An invoice's change, recorded by `recordInvoiceEvents` after the change is written. */
export interface InvoiceEvent {
  readonly type: Extract<EventType, `invoice.${string}`>;
  readonly invoiceId: string;
  /** The change's instant (the tenant's clock). */
  readonly occurredAt: Date;
}

const INSERT_INVOICE_EVENTS = `insert into events (id, tenant_id, type, occurred_at, data)
  select x.id, s.tenant_id, x.type, x.occurred_at, ${INVOICE_JSON}::jsonb
    from jsonb_to_recordset(PARAM::jsonb) as x(n int, id uuid, type text, invoice_id uuid, occurred_at timestamptz)
    join statements s on s.id = x.invoice_id
   order by x.n`;

/**
 * `recordEvents` for invoice changes, set-wise: PostgreSQL builds each event's `data` from the
 * invoice's row and lines as they stand in this transaction (`INVOICE_JSON`, which the generated
 * test in json-reads.db.test.ts holds byte-identical to `presentInvoice`), so nothing is read back,
 * presented and sent again. Call it after the change's writes, inside their transaction.
 */
export async function recordInvoiceEvents(
  tx: EventTransaction,
  events: readonly InvoiceEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(
    events.map((e, n) => ({
      n,
      id: newId(),
      type: e.type,
      invoice_id: e.invoiceId,
      occurred_at: e.occurredAt.toISOString(),
    })),
  );
  if (typeof tx === "function") await tx(INSERT_INVOICE_EVENTS.replace("PARAM", "$1"), [rows]);
  else await sqlOn(tx)(INSERT_INVOICE_EVENTS.replace("PARAM", "?"), [rows]);
}
