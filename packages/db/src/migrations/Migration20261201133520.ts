import { Migration } from '@mikro-orm/migrations';

export class Migration20261201133520 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "events" ("position" bigserial primary key, "id" uuid not null, "tenant_id" uuid not null, "type" text check ("type" in ('deployment.created', 'deployment.updated', 'deployment.transitioned', 'subscription.created', 'subscription.plan_changed', 'subscription.addon_attached', 'subscription.addon_detached', 'invoice.issued', 'invoice.paid', 'invoice.payment_failed', 'invoice.overdue', 'invoice.voided', 'invoice.marked_uncollectible', 'payment.succeeded', 'payment.failed', 'resource.registered', 'resource.released', 'webhook_endpoint.disabled')) not null, "occurred_at" timestamptz(3) not null, "recorded_at" timestamptz(3) not null default now(), "xid" xid8 not null default pg_current_xact_id(), "data" jsonb not null);`);
    this.addSql(`alter table "events" add constraint "events_id_unique" unique ("id");`);
    this.addSql(`create index "events_feed_index" on "events" ("xid", "position");`);
    this.addSql(`create index "events_tenant_feed_index" on "events" ("tenant_id", "xid", "position");`);
    this.addSql(`create index "events_recorded_index" on "events" ("recorded_at");`);

    this.addSql(`create table "webhook_endpoints" ("id" uuid not null, "tenant_id" uuid null, "url" text not null, "event_types" text[] null, "description" text null, "enabled" boolean not null, "secret" text not null, "previous_secret" text null, "previous_secret_expires_at" timestamptz(3) null, "created_xid" xid8 not null default pg_current_xact_id(), "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, "last_success_at" timestamptz(3) null, "failing_since" timestamptz(3) null, "disabled_at" timestamptz(3) null, constraint "webhook_endpoints_pkey" primary key ("id"), constraint webhook_endpoints_event_types_check check (event_types <@ array['deployment.created'::text, 'deployment.updated'::text, 'deployment.transitioned'::text, 'subscription.created'::text, 'subscription.plan_changed'::text, 'subscription.addon_attached'::text, 'subscription.addon_detached'::text, 'invoice.issued'::text, 'invoice.paid'::text, 'invoice.payment_failed'::text, 'invoice.overdue'::text, 'invoice.voided'::text, 'invoice.marked_uncollectible'::text, 'payment.succeeded'::text, 'payment.failed'::text, 'resource.registered'::text, 'resource.released'::text, 'webhook_endpoint.disabled'::text]));`);
    this.addSql(`create index "webhook_endpoints_tenant_index" on "webhook_endpoints" ("tenant_id", "created_at", "id");`);

    this.addSql(`create table "webhook_deliveries" ("id" uuid not null, "endpoint_id" uuid not null, "event_id" uuid not null, "status" text check ("status" in ('pending', 'succeeded', 'failed')) not null, "attempts" int not null, "next_attempt_at" timestamptz(3) null, "last_attempt_at" timestamptz(3) null, "created_at" timestamptz(3) not null, constraint "webhook_deliveries_pkey" primary key ("id"), constraint webhook_deliveries_attempts_check check (attempts >= 0));`);
    this.addSql(`create index "webhook_deliveries_due_index" on "webhook_deliveries" ("endpoint_id", "status", "next_attempt_at");`);
    this.addSql(`create index "webhook_deliveries_event_index" on "webhook_deliveries" ("event_id");`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_event_unique" unique ("endpoint_id", "event_id");`);

    this.addSql(`create table "webhook_attempts" ("id" uuid not null, "delivery_id" uuid not null, "endpoint_id" uuid not null, "event_id" uuid not null, "attempt" int not null, "attempted_at" timestamptz(3) not null, "duration_ms" int not null, "response_status" int null, "error" text null, "succeeded" boolean not null, constraint "webhook_attempts_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_attempts_endpoint_index" on "webhook_attempts" ("endpoint_id", "attempted_at", "id");`);

    this.addSql(`create table "webhook_fanout" ("id" int not null, "xid" xid8 not null, "position" bigint not null, constraint "webhook_fanout_pkey" primary key ("id"));`);

    this.addSql(`alter table "events" add constraint "events_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);

    this.addSql(`alter table "webhook_endpoints" add constraint "webhook_endpoints_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_delivery_id_foreign" foreign key ("delivery_id") references "webhook_deliveries" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint "webhook_deliveries_endpoint_id_foreign";`);

    this.addSql(`alter table "webhook_attempts" drop constraint "webhook_attempts_delivery_id_foreign";`);

    this.addSql(`drop table if exists "events" cascade;`);

    this.addSql(`drop table if exists "webhook_endpoints" cascade;`);

    this.addSql(`drop table if exists "webhook_deliveries" cascade;`);

    this.addSql(`drop table if exists "webhook_attempts" cascade;`);

    this.addSql(`drop table if exists "webhook_fanout" cascade;`);
  }

}
