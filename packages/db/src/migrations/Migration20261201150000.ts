import { Migration } from '@mikro-orm/migrations';

/** `invoice.overdue` is announced once per invoice: when collection did so. */
export class Migration20261201150000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "statements" add column "overdue_at" timestamptz(3) null;`);
    // Invoices already past due before this migration are not announced after the fact.
    this.addSql(`update "statements" s set "overdue_at" = s."due_at" from "tenants" t where t."id" = s."tenant_id" and s."status" = 'open' and s."due_at" <= coalesce(t."clock_frozen_at", now());`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "statements" drop column "overdue_at";`);
  }

}
