import { Migration } from '@mikro-orm/migrations';

export class Migration20261201112200 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "tenants" add column "sandbox" boolean not null default false, add column "clock_frozen_at" timestamptz(3) null;`);
    this.addSql(`alter table "tenants" add constraint tenants_clock_check check(sandbox = (clock_frozen_at is not null));`);

    // Existing changes are numbered in the order they were made as best the rows tell it: by
    // requested_at, then id (UUIDv7, time-ordered within a process).
    this.addSql(`alter table "subscription_plan_changes" add column "sequence" int null;`);
    this.addSql(`update "subscription_plan_changes" c set "sequence" = n.seq from (select id, row_number() over (partition by subscription_id order by requested_at, id) as seq from "subscription_plan_changes") n where n.id = c.id;`);
    this.addSql(`alter table "subscription_plan_changes" alter column "sequence" set not null;`);
    this.addSql(`alter table "subscription_plan_changes" add constraint "subscription_plan_changes_sequence_unique" unique ("subscription_id", "sequence");`);
    this.addSql(`alter table "subscription_plan_changes" add constraint subscription_plan_changes_sequence_check check(sequence >= 1);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "subscription_plan_changes" drop constraint "subscription_plan_changes_sequence_unique";`);
    this.addSql(`alter table "subscription_plan_changes" drop constraint subscription_plan_changes_sequence_check;`);
    this.addSql(`alter table "subscription_plan_changes" drop column "sequence";`);

    this.addSql(`alter table "tenants" drop constraint tenants_clock_check;`);
    this.addSql(`alter table "tenants" drop column "sandbox", drop column "clock_frozen_at";`);
  }

}
