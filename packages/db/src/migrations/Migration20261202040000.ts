import { Migration } from '@mikro-orm/migrations';

/**
 * Leased pages of first attempts (`webhook_leases`): a leasing fan-out hands the deliveries that
 * fit its caller's room over without writing a row for each — one row for the page instead,
 * listing them (endpoint, event and the id drawn for each, three arrays in step). A first attempt
 * that succeeds then leaves its log line and nothing else; one that fails, or is handed back,
 * becomes a delivery row; a page whose lease ran out is turned back into due deliveries.
 * Only adds a table: a previous release's worker, during a rollout, leases as before (rows).
 * Going back turns every open page into due deliveries first (the previous release cannot
 * recover them).
 */
export class Migration20261202040000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_leases" ("id" uuid not null, "endpoint_ids" uuid[] not null, "event_ids" uuid[] not null, "delivery_ids" uuid[] not null, "leased_until" timestamptz(3) not null, "created_at" timestamptz(3) not null, constraint "webhook_leases_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_leases_leased_until_index" on "webhook_leases" ("leased_until");`);
  }

  override async down(): Promise<void> {
    this.addSql(`insert into "webhook_deliveries" ("id", "endpoint_id", "event_id", "status", "attempts", "next_attempt_at", "created_at")
      select x.delivery_id, x.endpoint_id, x.event_id, 'pending', 0, now(), now()
        from "webhook_leases" l, unnest(l."delivery_ids", l."endpoint_ids", l."event_ids") as x(delivery_id, endpoint_id, event_id)
       where exists (select 1 from "webhook_endpoints" w where w."id" = x.endpoint_id)
      on conflict ("endpoint_id", "event_id") do nothing;`);
    this.addSql(`drop table if exists "webhook_leases" cascade;`);
  }

}
