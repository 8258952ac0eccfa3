import { Migration } from '@mikro-orm/migrations';

/**
 * Leased pages of first attempts (`webhook_leases`): a leasing fan-out hands the deliveries that
 * fit its caller's room over without writing a row for each — one row for the page instead (the
 * range of the feed it read and the endpoints it leased to). A first attempt that succeeds then
 * leaves its log line and nothing else; one that fails becomes a delivery row due for its retry.
 * Only adds a table: a previous release's worker, during a rollout, leases as before (rows).
 */
export class Migration20261202040000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_leases" ("id" uuid not null, "after_xid" xid8 not null, "after_position" bigint not null, "through_xid" xid8 not null, "through_position" bigint not null, "endpoint_ids" uuid[] not null, "leased_until" timestamptz(3) not null, "created_at" timestamptz(3) not null, constraint "webhook_leases_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_leases_leased_until_index" on "webhook_leases" ("leased_until");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_leases" cascade;`);
  }

}
