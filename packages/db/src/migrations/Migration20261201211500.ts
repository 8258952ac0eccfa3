import { Migration } from '@mikro-orm/migrations';

/**
 * A claim's own token (`lease_id`, drawn by each claim, not indexed: claims stay updates in place).
 * An outcome or a hand-back applies only while the delivery still carries its claim's token: the
 * attempt number and the lease's end could both repeat (a redelivery restarts the attempts, and
 * two claims may fall in one millisecond). Only adds a column.
 */
export class Migration20261201211500 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" add column "lease_id" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop column "lease_id";`);
  }

}
