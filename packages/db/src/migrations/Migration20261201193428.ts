import { Migration } from '@mikro-orm/migrations';

/**
 * A claimed delivery's lease gets a column of its own (`leased_until`, not indexed), where it was
 * written into the indexed `next_attempt_at`: a claim now changes no indexed column, so with the
 * room a lower fillfactor leaves on each page it is a HOT update (no new entry in any index) instead
 * of a new row version in every index. `webhook_deliveries_event_index` served no query (a delivery
 * is found by its id or by its endpoint and event): it only cost an entry per row version.
 *
 * Nothing moves: a delivery leased before this migration still carries its lease in
 * `next_attempt_at`, which keeps it from being claimed until the lease runs out, as before.
 *
 * Not an expand-only step: a worker of the previous release reads only `next_attempt_at`, so it
 * may claim what a new worker holds. Stop the previous release's delivery loops before starting
 * this release's (ARCHITECTURE.md, "Rolling out a migration"); a mixed window repeats sends, never
 * loses one.
 */
export class Migration20261201193428 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "webhook_deliveries_event_index";`);

    this.addSql(`alter table "webhook_deliveries" add column "leased_until" timestamptz(3) null;`);
    // Applies to pages written from now on (existing pages are not rewritten).
    this.addSql(`alter table "webhook_deliveries" set (fillfactor = 70);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" reset (fillfactor);`);
    // A lease goes back where the previous code keeps it.
    this.addSql(`update "webhook_deliveries" set "next_attempt_at" = "leased_until" where "leased_until" > "next_attempt_at";`);
    this.addSql(`alter table "webhook_deliveries" drop column "leased_until";`);

    this.addSql(`create index "webhook_deliveries_event_index" on "webhook_deliveries" ("event_id");`);
  }

}
