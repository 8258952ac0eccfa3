import { Migration } from '@mikro-orm/migrations';

export class Migration20261201122513 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "sandbox_charges" ("idempotency_key" text not null, "invoice_id" uuid not null, "amount_cents" bigint not null, "currency" text not null, "token" text not null, "status" text check ("status" in ('succeeded', 'failed')) not null, "failure_code" text null, "retryable" boolean not null, "charge_ref" text not null, "created_at" timestamptz(3) not null, constraint "sandbox_charges_pkey" primary key ("idempotency_key"));`);

    this.addSql(`create table "payment_methods" ("tenant_id" uuid not null, "id" uuid not null, "provider" text not null, "token" text not null, "created_at" timestamptz(3) not null, constraint "payment_methods_pkey" primary key ("tenant_id"));`);
    this.addSql(`alter table "payment_methods" add constraint "payment_methods_id_unique" unique ("id");`);

    this.addSql(`create table "invoice_number_counters" ("tenant_id" uuid not null, "last_serial" bigint not null, constraint "invoice_number_counters_pkey" primary key ("tenant_id"), constraint invoice_number_counters_serial_check check (last_serial >= 0));`);

    this.addSql(`create table "payments" ("id" uuid not null, "invoice_id" uuid not null, "tenant_id" uuid not null, "amount_cents" bigint not null, "currency" text not null, "method" text check ("method" in ('manual', 'provider')) not null, "provider" text null, "provider_ref" text null, "status" text check ("status" in ('pending', 'succeeded', 'failed', 'unknown')) not null, "failure_code" text null, "attempt" int null, "reference" text null, "payment_method_id" uuid null, "retryable" boolean null, "created_at" timestamptz(3) not null, "settled_at" timestamptz(3) null, constraint "payments_pkey" primary key ("id"), constraint payments_amount_check check (amount_cents > 0), constraint payments_attempt_check check ((method = 'manual' and attempt is null and status = 'succeeded') or (method = 'provider' and attempt is not null and attempt >= 1 and provider is not null)));`);
    this.addSql(`create index "payments_invoice_created_index" on "payments" ("invoice_id", "created_at", "id");`);
    this.addSql(`alter table "payments" add constraint "payments_invoice_attempt_unique" unique ("invoice_id", "attempt");`);

    this.addSql(`create table "collection_schedule" ("deployment_id" uuid not null, "due_at" timestamptz(3) not null, constraint "collection_schedule_pkey" primary key ("deployment_id"));`);
    this.addSql(`create index "collection_schedule_due_index" on "collection_schedule" ("due_at", "deployment_id");`);

    this.addSql(`create table "dunning_policies" ("tenant_id" uuid not null, "retry_after_days" jsonb not null, "past_due_after_days" int not null, "suspend_after_days" int not null, "cancel_after_days" int not null, "archive_after_days" int not null, "updated_at" timestamptz(3) not null, constraint "dunning_policies_pkey" primary key ("tenant_id"));`);

    this.addSql(`alter table "payment_methods" add constraint "payment_methods_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "invoice_number_counters" add constraint "invoice_number_counters_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "payments" add constraint "payments_invoice_id_foreign" foreign key ("invoice_id") references "statements" ("id") on update cascade;`);
    this.addSql(`alter table "payments" add constraint "payments_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade;`);

    this.addSql(`alter table "collection_schedule" add constraint "collection_schedule_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "dunning_policies" add constraint "dunning_policies_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "statements" drop constraint if exists "statements_status_check";`);

    this.addSql(`alter table "tenants" add column "payment_terms_days" int not null default 7;`);
    this.addSql(`alter table "tenants" add constraint tenants_payment_terms_check check(payment_terms_days >= 0 and payment_terms_days <= 365);`);

    this.addSql(`alter table "statements" add column "amount_paid_cents" bigint not null default 0, add column "due_at" timestamptz(3) null, add column "paid_at" timestamptz(3) null, add column "voided_at" timestamptz(3) null;`);
    // Backfill (hand-written): invoices issued before collection existed are due after the default
    // terms; those with nothing to pay are paid at issue.
    this.addSql(`update "statements" set "due_at" = "issued_at" + interval '7 days';`);
    this.addSql(`update "statements" set "status" = 'paid', "paid_at" = "issued_at" where "total_cents" = 0 and "status" = 'open';`);
    this.addSql(`alter table "statements" alter column "due_at" set not null;`);
    // Numbers become per tenant (SPEC §3.5): the existing invoices are renumbered in issue order,
    // INV-<SLUG>-000001 onwards, and each tenant's counter continues from there.
    this.addSql(`update "statements" s set "number" = 'INV-' || upper(t.slug) || '-' || case when length(x.n::text) >= 6 then x.n::text else lpad(x.n::text, 6, '0') end
      from (select id, tenant_id, row_number() over (partition by tenant_id order by issued_at, id) as n from "statements") x
      join "tenants" t on t.id = x.tenant_id
      where s.id = x.id;`);
    this.addSql(`insert into "invoice_number_counters" ("tenant_id", "last_serial") select "tenant_id", count(*) from "statements" group by "tenant_id";`);
    // Deployments with money due are looked at by the first collection pass.
    this.addSql(`insert into "collection_schedule" ("deployment_id", "due_at") select "deployment_id", min("issued_at") from "statements" where "status" = 'open' group by "deployment_id";`);
    this.addSql(`alter table "statements" add constraint "statements_status_check" check("status" in ('open', 'paid', 'void', 'uncollectible'));`);
    this.addSql(`alter table "statements" add constraint statements_paid_check check(amount_paid_cents >= 0 and amount_paid_cents <= total_cents);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sandbox_charges" cascade;`);

    this.addSql(`drop table if exists "payment_methods" cascade;`);

    this.addSql(`drop table if exists "invoice_number_counters" cascade;`);

    this.addSql(`drop table if exists "payments" cascade;`);

    this.addSql(`drop table if exists "collection_schedule" cascade;`);

    this.addSql(`drop table if exists "dunning_policies" cascade;`);

    this.addSql(`alter table "statements" drop constraint if exists "statements_status_check";`);

    this.addSql(`alter table "statements" drop constraint statements_paid_check;`);
    this.addSql(`alter table "statements" drop column "amount_paid_cents", drop column "due_at", drop column "paid_at", drop column "voided_at";`);

    this.addSql(`alter table "statements" add constraint "statements_status_check" check("status" in ('open'));`);

    this.addSql(`alter table "tenants" drop constraint tenants_payment_terms_check;`);
    this.addSql(`alter table "tenants" drop column "payment_terms_days";`);
  }

}
