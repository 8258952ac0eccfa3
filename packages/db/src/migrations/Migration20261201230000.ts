import { Migration } from '@mikro-orm/migrations';

/**
 * The delivery log's rows belong to their endpoint, not to their delivery row. Deleting an endpoint
 * cascaded to its deliveries and from each of those to its attempts by `delivery_id`, which no
 * index serves: a scan of the whole log per delivery, so deleting an endpoint took time quadratic
 * in its history (8,000 deliveries: 1.7 s; a million: hours, holding its locks). Now the attempts
 * go with their endpoint, through the index the delivery log reads them by (`endpoint_id` first).
 * Logging an attempt also stops locking its delivery row for the key check. `delivery_id` stays,
 * as written by the dispatcher. Expand-only: a previous release's worker writes attempts that
 * satisfy both keys.
 *
 * Locks: brief, and in the order an endpoint's deletion takes them (endpoints, then deliveries,
 * then attempts), so the two cannot deadlock. Dropping the old key locks the log and the deliveries
 * exclusively until this transaction commits, so the new key is added `not valid`: no scan of the
 * log under those locks. Every existing row satisfies it already (its delivery existed, and a
 * delivery's endpoint exists), and every new row is checked. `alter table webhook_attempts
 * validate constraint webhook_attempts_endpoint_id_foreign` marks it validated at a quiet time; it
 * blocks no writes. (Migration20261202030000 drops this key again: the dispatcher locks endpoints
 * once per statement instead.)
 */
export class Migration20261201230000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`lock table "webhook_endpoints" in share row exclusive mode;`);
    this.addSql(`lock table "webhook_deliveries" in access exclusive mode;`);
    this.addSql(`alter table "webhook_attempts" drop constraint "webhook_attempts_delivery_id_foreign";`);
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on update cascade on delete cascade not valid;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_attempts" drop constraint "webhook_attempts_endpoint_id_foreign";`);
    this.addSql(`alter table "webhook_attempts" add constraint "webhook_attempts_delivery_id_foreign" foreign key ("delivery_id") references "webhook_deliveries" ("id") on update cascade on delete cascade;`);
  }

}
