import { Migration } from '@mikro-orm/migrations';

/**
 * The due index holds pending deliveries only, by endpoint, due time and id (the claim's order): a delivery that succeeds or
 * fails for good leaves it, so recording its outcome adds no entry there, and the index claims read
 * stays the size of the queue, not of the history.
 *
 * The rebuild runs inside the migration's transaction and holds the table's lock until it ends,
 * so fan-out, claims and outcomes wait for the build: on a large history, migrate at a quiet hour.
 */
export class Migration20261201203000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "webhook_deliveries_due_index";`);
    this.addSql(`create index "webhook_deliveries_due_index" on "webhook_deliveries" ("endpoint_id", "next_attempt_at", "id") where "status" = 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "webhook_deliveries_due_index";`);
    this.addSql(`create index "webhook_deliveries_due_index" on "webhook_deliveries" ("endpoint_id", "status", "next_attempt_at");`);
  }

}
