import { EVENT_TYPES, type EventType, Tenant } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { pickedRows } from "./row-mapping.ts";
import { instant } from "./types.ts";

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * Where a tenant's (or, with no tenant, every tenant's) events are POSTed. The signing secret is
 * kept as written (HMAC needs it) and never shown after creation or rotation.
 */
export class WebhookEndpoint {
  id!: string;
  tenantId!: string | null;
  url!: string;
  /** Null: every type. */
  eventTypes!: EventType[] | null;
  description!: string | null;
  enabled!: boolean;
  secret!: string;
  previousSecret!: string | null;
  previousSecretExpiresAt!: Date | null;
  /**
   * The endpoint receives events of transactions after this one: the creating transaction, then
   * the one that last enabled it (the column keeps its first name: a rename would break the
   * fan-out of processes of the previous release during a rollout).
   */
  createdXid!: string;
  createdAt!: Date;
  updatedAt!: Date;
  lastSuccessAt!: Date | null;
  /** The first failure since the last success (null while healthy). */
  failingSince!: Date | null;
  disabledAt!: Date | null;
}

export const WebhookEndpointSchema = new EntitySchema<WebhookEndpoint>({
  class: WebhookEndpoint,
  tableName: "webhook_endpoints",
  properties: {
    id: { type: "uuid", primary: true },
    tenantId: {
      kind: "m:1",
      entity: () => Tenant,
      mapToPk: true,
      fieldName: "tenant_id",
      nullable: true,
      deleteRule: "cascade",
    },
    url: { type: "text" },
    eventTypes: { type: "text[]", nullable: true },
    description: { type: "text", nullable: true },
    enabled: { type: "boolean" },
    secret: { type: "text" },
    previousSecret: { type: "text", nullable: true },
    previousSecretExpiresAt: { ...instant, nullable: true },
    createdXid: { type: "string", columnType: "xid8", defaultRaw: "pg_current_xact_id()" },
    createdAt: { ...instant },
    updatedAt: { ...instant },
    lastSuccessAt: { ...instant, nullable: true },
    failingSince: { ...instant, nullable: true },
    disabledAt: { ...instant, nullable: true },
  },
  indexes: [{ name: "webhook_endpoints_tenant_index", properties: ["tenantId", "createdAt", "id"] }],
  checks: [
    {
      name: "webhook_endpoints_event_types_check",
      expression: `event_types <@ array[${EVENT_TYPES.map((t) => `'${t}'::text`).join(", ")}]`,
    },
  ],
});

const SHOWN_ENDPOINT_ROWS = pickedRows(WebhookEndpointSchema, [
  "id",
  "tenantId",
  "url",
  "eventTypes",
  "description",
  "enabled",
  "createdAt",
  "updatedAt",
  "lastSuccessAt",
  "failingSince",
  "disabledAt",
  "previousSecretExpiresAt",
]);

/** The columns of an endpoint as it may be shown (`presentWebhookEndpoint`): never the secrets. */
export const SHOWN_ENDPOINT_COLUMNS = (alias = "") => SHOWN_ENDPOINT_ROWS.columns(alias);

/** A `webhook_endpoints` row read through `SHOWN_ENDPOINT_COLUMNS`, for its presentation. */
export const shownEndpointFromRow = SHOWN_ENDPOINT_ROWS.fromRow;

/** One event to one endpoint: pending until a 2xx, or failed once the retry schedule is spent. */
export class WebhookDelivery {
  id!: string;
  endpointId!: string;
  eventId!: string;
  status!: WebhookDeliveryStatus;
  /** Attempts started so far. */
  attempts!: number;
  /** When the next attempt is due (null once delivered or failed). */
  nextAttemptAt!: Date | null;
  /**
   * While an attempt is in flight: until when it is its worker's (claimed, not yet recorded).
   * After that another worker may attempt it again. Not indexed, so a claim updates the row in
   * place (HOT).
   */
  leasedUntil!: Date | null;
  /** The running claim's own token: what its outcome or hand-back must still find here. */
  leaseId!: string | null;
  lastAttemptAt!: Date | null;
  createdAt!: Date;
}

export const WebhookDeliverySchema = new EntitySchema<WebhookDelivery>({
  class: WebhookDelivery,
  tableName: "webhook_deliveries",
  properties: {
    id: { type: "uuid", primary: true },
    // No foreign key: the dispatcher locks the endpoint once per statement, and the endpoint's
    // deletion takes its deliveries with it (a trigger; Migration20261202030000).
    endpointId: { type: "uuid" },
    eventId: { type: "uuid" },
    status: { type: "text", enum: true, items: () => WEBHOOK_DELIVERY_STATUSES as unknown as string[] },
    attempts: { type: "integer" },
    nextAttemptAt: { ...instant, nullable: true },
    leasedUntil: { ...instant, nullable: true },
    leaseId: { type: "uuid", nullable: true },
    lastAttemptAt: { ...instant, nullable: true },
    createdAt: { ...instant },
  },
  uniques: [{ name: "webhook_deliveries_endpoint_event_unique", properties: ["endpointId", "eventId"] }],
  indexes: [
    {
      name: "webhook_deliveries_due_index",
      expression: `create index "webhook_deliveries_due_index" on "webhook_deliveries" ("endpoint_id", "next_attempt_at", "id") where "status" = 'pending'`,
    },
  ],
  checks: [{ name: "webhook_deliveries_attempts_check", expression: "attempts >= 0" }],
});

/** The delivery log: one row per finished attempt (status, duration, error; never the body). */
export class WebhookAttempt {
  id!: string;
  deliveryId!: string;
  endpointId!: string;
  eventId!: string;
  attempt!: number;
  attemptedAt!: Date;
  durationMs!: number;
  responseStatus!: number | null;
  error!: string | null;
  succeeded!: boolean;
}

export const WebhookAttemptSchema = new EntitySchema<WebhookAttempt>({
  class: WebhookAttempt,
  tableName: "webhook_attempts",
  properties: {
    id: { type: "uuid", primary: true },
    deliveryId: { type: "uuid" },
    // The log goes with its endpoint (through the index below; a trigger, as for the deliveries),
    // not with each delivery row.
    endpointId: { type: "uuid" },
    eventId: { type: "uuid" },
    attempt: { type: "integer" },
    attemptedAt: { ...instant },
    durationMs: { type: "integer" },
    responseStatus: { type: "integer", nullable: true },
    error: { type: "text", nullable: true },
    succeeded: { type: "boolean" },
  },
  indexes: [{ name: "webhook_attempts_endpoint_index", properties: ["endpointId", "attemptedAt", "id"] }],
});

/** Where the fan-out (events → deliveries) has read the feed up to: one row. */
export class WebhookFanout {
  id!: number;
  xid!: string;
  position!: string;
}

export const WebhookFanoutSchema = new EntitySchema<WebhookFanout>({
  class: WebhookFanout,
  tableName: "webhook_fanout",
  properties: {
    id: { type: "integer", primary: true, autoincrement: false },
    xid: { type: "string", columnType: "xid8" },
    position: { type: "bigint" },
  },
});

/**
 * A page of first attempts that a leasing fan-out handed to one worker without a delivery row
 * each: the deliveries, as three arrays in step (endpoint, event, the id drawn for each).
 * Deleted once every attempt it handed over is recorded or handed back; one whose lease ran out
 * (its worker died) is turned into due deliveries by `recoverWebhookLeases`.
 */
export class WebhookLease {
  id!: string;
  endpointIds!: string[];
  eventIds!: string[];
  deliveryIds!: string[];
  leasedUntil!: Date;
  createdAt!: Date;
}

export const WebhookLeaseSchema = new EntitySchema<WebhookLease>({
  class: WebhookLease,
  tableName: "webhook_leases",
  properties: {
    id: { type: "uuid", primary: true },
    endpointIds: { type: "uuid[]", columnType: "uuid[]" },
    eventIds: { type: "uuid[]", columnType: "uuid[]" },
    deliveryIds: { type: "uuid[]", columnType: "uuid[]" },
    leasedUntil: { ...instant },
    createdAt: { ...instant },
  },
  indexes: [{ name: "webhook_leases_leased_until_index", properties: ["leasedUntil"] }],
});
