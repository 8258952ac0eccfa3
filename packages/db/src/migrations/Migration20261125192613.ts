import { Migration } from '@mikro-orm/migrations';

export class Migration20261125192613 extends Migration {

  override async up(): Promise<void> {
    // Serial part of statement numbers (INV-yyyymm-serial); not part of the ORM mapping.
    this.addSql(`create sequence if not exists "statement_number_seq" as bigint start with 1;`);
    this.addSql(`create table "addons" ("id" uuid not null, "code" text not null, "name" text not null, "resource_kind" text not null, "qty" numeric(24,6) not null, "price_cents" bigint not null, "currency" text not null, "active" boolean not null default true, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, constraint "addons_pkey" primary key ("id"), constraint addons_price_check check (price_cents >= 0), constraint addons_qty_check check (qty > 0), constraint addons_currency_check check (currency ~ '^[A-Z]{3}\$'));`);
    this.addSql(`alter table "addons" add constraint "addons_code_unique" unique ("code");`);

    this.addSql(`create table "idempotency_keys" ("id" uuid not null, "principal_id" text not null, "key" text not null, "request_hash" text not null, "status_code" int not null, "response_body" jsonb not null, "created_at" timestamptz(3) not null, constraint "idempotency_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "idempotency_keys_created_index" on "idempotency_keys" ("created_at");`);
    this.addSql(`alter table "idempotency_keys" add constraint "idempotency_keys_principal_key_unique" unique ("principal_id", "key");`);

    this.addSql(`create table "plans" ("id" uuid not null, "code" text not null, "name" text not null, "created_at" timestamptz(3) not null, constraint "plans_pkey" primary key ("id"));`);
    this.addSql(`alter table "plans" add constraint "plans_code_unique" unique ("code");`);

    this.addSql(`create table "plan_versions" ("id" uuid not null, "plan_id" uuid not null, "version" int not null, "price_cents" bigint not null, "currency" text not null, "trial_days" int not null, "includes" jsonb not null, "created_at" timestamptz(3) not null, constraint "plan_versions_pkey" primary key ("id"), constraint plan_versions_version_check check (version >= 1), constraint plan_versions_price_check check (price_cents >= 0), constraint plan_versions_currency_check check (currency ~ '^[A-Z]{3}\$'), constraint plan_versions_trial_days_check check (trial_days >= 0 and trial_days <= 365));`);
    this.addSql(`alter table "plan_versions" add constraint "plan_versions_plan_version_unique" unique ("plan_id", "version");`);

    this.addSql(`create table "tenants" ("id" uuid not null, "slug" text not null, "name" text not null, "created_at" timestamptz(3) not null, constraint "tenants_pkey" primary key ("id"));`);
    this.addSql(`alter table "tenants" add constraint "tenants_slug_unique" unique ("slug");`);

    this.addSql(`create table "deployments" ("id" uuid not null, "tenant_id" uuid not null, "slug" text not null, "display_name" text not null, "region" text not null, "state" text check ("state" in ('trial', 'active', 'past_due', 'paused', 'suspended', 'cancelled', 'archived')) not null, "llm_mode" text check ("llm_mode" in ('none', 'shared', 'byok')) not null, "billing_action_suspended" boolean not null default false, "template_code" text null, "template_version" text null, "last_event_sequence" int not null, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, constraint "deployments_pkey" primary key ("id"), constraint deployments_slug_check check (slug ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\$'), constraint deployments_sequence_check check (last_event_sequence >= 1));`);
    this.addSql(`create index "deployments_tenant_created_index" on "deployments" ("tenant_id", "created_at", "id");`);
    this.addSql(`alter table "deployments" add constraint "deployments_tenant_slug_unique" unique ("tenant_id", "slug");`);

    this.addSql(`create table "subscriptions" ("id" uuid not null, "deployment_id" uuid not null, "tenant_id" uuid not null, "plan_version_id" uuid not null, "status" text check ("status" in ('active', 'paused', 'cancelled')) not null, "current_period_start" timestamptz(3) not null, "current_period_end" timestamptz(3) not null, "trial_ends_at" timestamptz(3) null, "pending_plan_version_id" uuid null, "cancelled_at" timestamptz(3) null, "ended_at" timestamptz(3) null, "created_at" timestamptz(3) not null, "updated_at" timestamptz(3) not null, constraint "subscriptions_pkey" primary key ("id"), constraint subscriptions_period_check check (current_period_end > current_period_start), constraint subscriptions_cancelled_check check ((status = 'cancelled') = (cancelled_at is not null)));`);
    this.addSql(`alter table "subscriptions" add constraint "subscriptions_deployment_unique" unique ("deployment_id");`);
    this.addSql(`create index "subscriptions_due_index" on "subscriptions" ("current_period_end");`);

    this.addSql(`create table "subscription_plan_changes" ("id" uuid not null, "subscription_id" uuid not null, "from_plan_version_id" uuid null, "to_plan_version_id" uuid not null, "kind" text check ("kind" in ('initial', 'immediate', 'period_end')) not null, "requested_at" timestamptz(3) not null, "effective_at" timestamptz(3) not null, "actor_type" text not null, "actor_id" text not null, "actor_role" text null, "superseded_at" timestamptz(3) null, constraint "subscription_plan_changes_pkey" primary key ("id"), constraint subscription_plan_changes_actor_check check ((actor_type = 'system' and actor_role is null) or (actor_type = 'principal' and actor_role is not null and actor_role = any (array['platform_admin'::text, 'tenant_admin'::text, 'tenant_viewer'::text]))));`);
    this.addSql(`create index "subscription_plan_changes_subscription_index" on "subscription_plan_changes" ("subscription_id", "effective_at");`);

    this.addSql(`create table "subscription_addons" ("id" uuid not null, "subscription_id" uuid not null, "addon_code" text not null, "resource_kind" text not null, "qty" numeric(24,6) not null, "price_cents" bigint not null, "currency" text not null, "attached_at" timestamptz(3) not null, "detached_at" timestamptz(3) null, constraint "subscription_addons_pkey" primary key ("id"), constraint subscription_addons_price_check check (price_cents >= 0), constraint subscription_addons_qty_check check (qty > 0), constraint subscription_addons_detached_check check (detached_at is null or detached_at >= attached_at));`);
    this.addSql(`create index "subscription_addons_subscription_index" on "subscription_addons" ("subscription_id", "attached_at");`);

    this.addSql(`create table "statements" ("id" uuid not null, "number" text not null, "tenant_id" uuid not null, "deployment_id" uuid not null, "subscription_id" uuid not null, "period_start" timestamptz(3) not null, "period_end" timestamptz(3) not null, "currency" text not null, "total_cents" bigint not null, "status" text check ("status" in ('open')) not null, "issued_at" timestamptz(3) not null, constraint "statements_pkey" primary key ("id"), constraint statements_total_check check (total_cents >= 0), constraint statements_period_check check (period_end > period_start));`);
    this.addSql(`alter table "statements" add constraint "statements_number_unique" unique ("number");`);
    this.addSql(`create index "statements_deployment_period_index" on "statements" ("deployment_id", "period_start", "id");`);
    this.addSql(`create index "statements_tenant_issued_index" on "statements" ("tenant_id", "issued_at", "id");`);
    this.addSql(`alter table "statements" add constraint "statements_subscription_period_unique" unique ("subscription_id", "period_start");`);

    this.addSql(`create table "statement_lines" ("id" uuid not null, "statement_id" uuid not null, "position" int not null, "kind" text check ("kind" in ('plan', 'addon')) not null, "description" text not null, "ref_id" uuid not null, "unit_price_cents" bigint not null, "billable_ms" bigint not null, "period_ms" bigint not null, "amount_cents" bigint not null, constraint "statement_lines_pkey" primary key ("id"), constraint statement_lines_amount_check check (amount_cents >= 0), constraint statement_lines_billable_check check (billable_ms > 0 and billable_ms <= period_ms));`);
    this.addSql(`alter table "statement_lines" add constraint "statement_lines_statement_position_unique" unique ("statement_id", "position");`);

    this.addSql(`create table "deployment_events" ("id" uuid not null, "deployment_id" uuid not null, "sequence" int not null, "from_state" text null, "to_state" text check ("to_state" in ('trial', 'active', 'past_due', 'paused', 'suspended', 'cancelled', 'archived')) not null, "actor_type" text not null, "actor_id" text not null, "actor_role" text null, "reason" text null, "occurred_at" timestamptz(3) not null, constraint "deployment_events_pkey" primary key ("id"), constraint deployment_events_sequence_check check (sequence >= 1), constraint deployment_events_from_state_check check ((sequence = 1 and from_state is null) or (sequence > 1 and from_state is not null and from_state = any (array['trial'::text, 'active'::text, 'past_due'::text, 'paused'::text, 'suspended'::text, 'cancelled'::text, 'archived'::text]))), constraint deployment_events_actor_check check ((actor_type = 'system' and actor_role is null) or (actor_type = 'principal' and actor_role is not null and actor_role = any (array['platform_admin'::text, 'tenant_admin'::text, 'tenant_viewer'::text]))), constraint deployment_events_reason_check check (reason is null or char_length(reason) <= 500));`);
    this.addSql(`alter table "deployment_events" add constraint "deployment_events_deployment_sequence_unique" unique ("deployment_id", "sequence");`);

    this.addSql(`create table "cloud_resources" ("id" uuid not null, "deployment_id" uuid not null, "tenant_id" uuid not null, "kind" text not null, "provider_ref" text not null, "qty" numeric(24,6) not null, "created_at" timestamptz(3) not null, "released_at" timestamptz(3) null, constraint "cloud_resources_pkey" primary key ("id"), constraint cloud_resources_qty_check check (qty > 0));`);
    this.addSql(`create index "cloud_resources_deployment_index" on "cloud_resources" ("deployment_id", "created_at");`);

    this.addSql(`create table "api_tokens" ("id" uuid not null, "tenant_id" uuid null, "role" text check ("role" in ('platform_admin', 'tenant_admin', 'tenant_viewer')) not null, "name" text not null, "secret_hash" text not null, "created_at" timestamptz(3) not null, "revoked_at" timestamptz(3) null, constraint "api_tokens_pkey" primary key ("id"), constraint api_tokens_tenant_check check ((role = 'platform_admin' and tenant_id is null) or (role <> 'platform_admin' and tenant_id is not null)));`);
    this.addSql(`alter table "api_tokens" add constraint "api_tokens_secret_hash_unique" unique ("secret_hash");`);

    this.addSql(`alter table "plan_versions" add constraint "plan_versions_plan_id_foreign" foreign key ("plan_id") references "plans" ("id") on update cascade;`);

    this.addSql(`alter table "deployments" add constraint "deployments_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);

    this.addSql(`alter table "subscriptions" add constraint "subscriptions_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on update cascade;`);
    this.addSql(`alter table "subscriptions" add constraint "subscriptions_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);
    this.addSql(`alter table "subscriptions" add constraint "subscriptions_plan_version_id_foreign" foreign key ("plan_version_id") references "plan_versions" ("id") on update cascade;`);
    this.addSql(`alter table "subscriptions" add constraint "subscriptions_pending_plan_version_id_foreign" foreign key ("pending_plan_version_id") references "plan_versions" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "subscription_plan_changes" add constraint "subscription_plan_changes_subscription_id_foreign" foreign key ("subscription_id") references "subscriptions" ("id") on update cascade;`);
    this.addSql(`alter table "subscription_plan_changes" add constraint "subscription_plan_changes_from_plan_version_id_foreign" foreign key ("from_plan_version_id") references "plan_versions" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "subscription_plan_changes" add constraint "subscription_plan_changes_to_plan_version_id_foreign" foreign key ("to_plan_version_id") references "plan_versions" ("id") on update cascade;`);

    this.addSql(`alter table "subscription_addons" add constraint "subscription_addons_subscription_id_foreign" foreign key ("subscription_id") references "subscriptions" ("id") on update cascade;`);

    this.addSql(`alter table "statements" add constraint "statements_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);
    this.addSql(`alter table "statements" add constraint "statements_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on update cascade;`);
    this.addSql(`alter table "statements" add constraint "statements_subscription_id_foreign" foreign key ("subscription_id") references "subscriptions" ("id") on update cascade;`);

    this.addSql(`alter table "statement_lines" add constraint "statement_lines_statement_id_foreign" foreign key ("statement_id") references "statements" ("id") on update cascade;`);

    this.addSql(`alter table "deployment_events" add constraint "deployment_events_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on update cascade;`);

    this.addSql(`alter table "cloud_resources" add constraint "cloud_resources_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on update cascade;`);
    this.addSql(`alter table "cloud_resources" add constraint "cloud_resources_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);

    this.addSql(`alter table "api_tokens" add constraint "api_tokens_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "plan_versions" drop constraint "plan_versions_plan_id_foreign";`);

    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_plan_version_id_foreign";`);

    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_pending_plan_version_id_foreign";`);

    this.addSql(`alter table "subscription_plan_changes" drop constraint "subscription_plan_changes_from_plan_version_id_foreign";`);

    this.addSql(`alter table "subscription_plan_changes" drop constraint "subscription_plan_changes_to_plan_version_id_foreign";`);

    this.addSql(`alter table "deployments" drop constraint "deployments_tenant_id_foreign";`);

    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_tenant_id_foreign";`);

    this.addSql(`alter table "statements" drop constraint "statements_tenant_id_foreign";`);

    this.addSql(`alter table "cloud_resources" drop constraint "cloud_resources_tenant_id_foreign";`);

    this.addSql(`alter table "api_tokens" drop constraint "api_tokens_tenant_id_foreign";`);

    this.addSql(`alter table "subscriptions" drop constraint "subscriptions_deployment_id_foreign";`);

    this.addSql(`alter table "statements" drop constraint "statements_deployment_id_foreign";`);

    this.addSql(`alter table "deployment_events" drop constraint "deployment_events_deployment_id_foreign";`);

    this.addSql(`alter table "cloud_resources" drop constraint "cloud_resources_deployment_id_foreign";`);

    this.addSql(`alter table "subscription_plan_changes" drop constraint "subscription_plan_changes_subscription_id_foreign";`);

    this.addSql(`alter table "subscription_addons" drop constraint "subscription_addons_subscription_id_foreign";`);

    this.addSql(`alter table "statements" drop constraint "statements_subscription_id_foreign";`);

    this.addSql(`alter table "statement_lines" drop constraint "statement_lines_statement_id_foreign";`);

    this.addSql(`drop table if exists "addons" cascade;`);

    this.addSql(`drop table if exists "idempotency_keys" cascade;`);

    this.addSql(`drop table if exists "plans" cascade;`);

    this.addSql(`drop table if exists "plan_versions" cascade;`);

    this.addSql(`drop table if exists "tenants" cascade;`);

    this.addSql(`drop table if exists "deployments" cascade;`);

    this.addSql(`drop table if exists "subscriptions" cascade;`);

    this.addSql(`drop table if exists "subscription_plan_changes" cascade;`);

    this.addSql(`drop table if exists "subscription_addons" cascade;`);

    this.addSql(`drop table if exists "statements" cascade;`);

    this.addSql(`drop table if exists "statement_lines" cascade;`);

    this.addSql(`drop table if exists "deployment_events" cascade;`);

    this.addSql(`drop table if exists "cloud_resources" cascade;`);

    this.addSql(`drop table if exists "api_tokens" cascade;`);

    this.addSql(`drop sequence if exists "statement_number_seq";`);
  }

}
