import { Migration } from '@mikro-orm/migrations';

/**
 * The endpoint keys of the delivery queue and the delivery log are checked once per statement
 * instead of once per row. A foreign key checks each inserted row on its own (a lookup and a row
 * lock on the endpoint per delivery and per log line: a quarter of PostgreSQL's work per delivery
 * in the step benchmark). Now the dispatcher's statements lock the endpoints they write for, each
 * once (`for key share`, the lock the key check took), and write nothing for an endpoint deleted
 * meanwhile; an endpoint's deletion takes its deliveries and log lines with it through a
 * statement trigger (whichever way it is deleted, its tenant's deletion included; a truncation
 * too), after its delete has waited for those locks — so no row outlives its endpoint, as before.
 * That holds for a deletion in READ COMMITTED, the isolation every path of ours deletes in; the
 * trigger refuses any other (a transaction's older snapshot would miss what a dispatcher
 * statement committed while the delete waited).
 *
 * Locks: brief, in the order an endpoint's deletion takes them (endpoints, then deliveries, then
 * attempts). Dropping a key needs no scan. A previous release's worker, during a rollout, writes
 * without those locks: a delivery or log line it writes for an endpoint deleted in the same
 * instant can outlive it (never sent: claims join the endpoint).
 */
export class Migration20261202030000 extends Migration {

  override async up(): Promise<void> {
    // All three at once, in the order an endpoint's deletion takes them: dropping a key locks the
    // endpoints exclusively, and an upgrade from a weaker lock deadlocks with a request that holds
    // an endpoint row and waits to write it.
    this.addSql(`lock table "webhook_endpoints", "webhook_deliveries", "webhook_attempts" in access exclusive mode;`);
    // By key whatever the number deleted (an array): PL/pgSQL keeps one plan per connection, and a
    // join planned for many endpoints scans both tables for one.
    this.addSql(`create or replace function "webhook_endpoints_deleted"() returns trigger language plpgsql as $$
begin
  -- Only a READ COMMITTED statement sees the rows that a dispatcher statement committed while the
  -- delete waited for its lock; a transaction's older snapshot would leave them behind.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'webhook endpoints are deleted in READ COMMITTED transactions only'
      using errcode = '0A000';
  end if;
  delete from "webhook_deliveries" where "endpoint_id" = any(array(select "id" from "deleted_endpoints"));
  delete from "webhook_attempts" where "endpoint_id" = any(array(select "id" from "deleted_endpoints"));
  return null;
end $$;`);
    this.addSql(`create trigger "webhook_endpoints_deleted" after delete on "webhook_endpoints" referencing old table as "deleted_endpoints" for each statement execute function "webhook_endpoints_deleted"();`);
    this.addSql(`create or replace function "webhook_endpoints_truncated"() returns trigger language plpgsql as $$
begin
  truncate "webhook_deliveries", "webhook_attempts";
  return null;
end $$;`);
    this.addSql(`create trigger "webhook_endpoints_truncated" after truncate on "webhook_endpoints" for each statement execute function "webhook_endpoints_truncated"();`);
    this.addSql(`alter table "webhook_deliveries" drop constraint "webhook_deliveries_endpoint_id_foreign";`);
    this.addSql(`alter table "webhook_attempts" drop constraint "webhook_attempts_endpoint_id_foreign";`);
  }

  override async down(): Promise<void> {
    this.addSql(`lock table "webhook_endpoints", "webhook_deliveries", "webhook_attempts" in access exclusive mode;`);
    // `not valid`: no scan under these locks (`validate constraint` checks the rows later; a row
    // written for an endpoint deleted in the same instant by a worker of the previous release, if
    // any, would fail it).
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade not valid;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade not valid;`);
    this.addSql(`drop trigger "webhook_endpoints_truncated" on "webhook_endpoints";`);
    this.addSql(`drop function "webhook_endpoints_truncated"();`);
    this.addSql(`drop trigger "webhook_endpoints_deleted" on "webhook_endpoints";`);
    this.addSql(`drop function "webhook_endpoints_deleted"();`);
  }

}
