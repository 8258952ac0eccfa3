import { Migration } from '@mikro-orm/migrations';

/**
 * The endpoint keys of the delivery queue and the delivery log are checked once per statement
 * instead of once per row. A foreign key checks each inserted row on its own (a lookup and a row
 * lock on the endpoint per delivery and per log line: a quarter of PostgreSQL's work per delivery
 * in the step benchmark). Now the dispatcher's statements lock the endpoints they write for, each
 * once (`for key share`, the lock the key check took), and write nothing for an endpoint deleted
 * meanwhile; an endpoint's deletion takes its deliveries and log lines with it through a
 * statement trigger (whichever way it is deleted, its tenant's deletion included), after its
 * delete has waited for those locks — so no row outlives its endpoint, as before.
 *
 * Locks: brief, in the order an endpoint's deletion takes them (endpoints, then deliveries, then
 * attempts). Dropping a key needs no scan. A previous release's worker, during a rollout, writes
 * without those locks: a delivery or log line it writes for an endpoint deleted in the same
 * instant can outlive it (never sent: claims join the endpoint).
 */
export class Migration20261202030000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`lock table "webhook_endpoints" in share row exclusive mode;`);
    this.addSql(`create or replace function "webhook_endpoints_deleted"() returns trigger language plpgsql as $$
begin
  delete from "webhook_deliveries" d using "deleted_endpoints" g where d."endpoint_id" = g."id";
  delete from "webhook_attempts" a using "deleted_endpoints" g where a."endpoint_id" = g."id";
  return null;
end $$;`);
    this.addSql(`create trigger "webhook_endpoints_deleted" after delete on "webhook_endpoints" referencing old table as "deleted_endpoints" for each statement execute function "webhook_endpoints_deleted"();`);
    this.addSql(`alter table "webhook_deliveries" drop constraint "webhook_deliveries_endpoint_id_foreign";`);
    this.addSql(`alter table "webhook_attempts" drop constraint "webhook_attempts_endpoint_id_foreign";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade not valid;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade not valid;`);
    this.addSql(`drop trigger "webhook_endpoints_deleted" on "webhook_endpoints";`);
    this.addSql(`drop function "webhook_endpoints_deleted"();`);
  }

}
