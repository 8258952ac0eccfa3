import { EVENT_TYPES, type EventType, Tenant } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { pickedRows } from "./row-mapping.ts";
import { instant } from "./types.ts";

/**
 * One row of the outbox (SPEC §3.9): written in the transaction of the change it describes.
 * `position` orders the events of one transaction; `xid` (the writing transaction's id) orders
 * transactions, and the feed serves only transactions older than every running one (events.ts).
 */
export class EventRecord {
  position!: string;
  id!: string;
  /** Null for a platform event (a platform-wide endpoint's): seen by platform admins only. */
  tenantId!: string | null;
  type!: EventType;
  occurredAt!: Date;
  recordedAt!: Date;
  xid!: string;
  data!: unknown;
}

export const EventRecordSchema = new EntitySchema<EventRecord>({
  class: EventRecord,
  tableName: "events",
  properties: {
    position: { type: "bigint", primary: true, autoincrement: true },
    id: { type: "uuid", unique: "events_id_unique" },
    tenantId: {
      kind: "m:1",
      entity: () => Tenant,
      mapToPk: true,
      fieldName: "tenant_id",
      nullable: true,
      // A tenant's events stay its own: never turned into platform events by a delete.
      deleteRule: "no action",
    },
    type: { type: "text", enum: true, items: () => EVENT_TYPES as unknown as string[] },
    occurredAt: { ...instant },
    recordedAt: { ...instant, defaultRaw: "now()" },
    xid: { type: "string", columnType: "xid8", defaultRaw: "pg_current_xact_id()" },
    data: { type: "json" },
  },
  indexes: [
    { name: "events_feed_index", properties: ["xid", "position"] },
    { name: "events_tenant_feed_index", properties: ["tenantId", "xid", "position"] },
    { name: "events_recorded_index", properties: ["recordedAt"] },
  ],
});

const EVENT_ROWS = pickedRows(EventRecordSchema, ["id", "type", "tenantId", "occurredAt", "data"]);

/** The events columns `eventFromRow` reads. */
export const EVENT_COLUMNS = (alias: string) => EVENT_ROWS.columns(alias);

/** An `events` row as the event it stores: the body of its webhook and of its feed entry. */
export const eventFromRow = EVENT_ROWS.fromRow;
