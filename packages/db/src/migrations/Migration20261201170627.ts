import { Migration } from '@mikro-orm/migrations';

/**
 * Platform events: a platform-wide webhook endpoint's `webhook_endpoint.disabled` has no tenant.
 * Only the constraint changes (no table rewrite): platform admins see these events, tenants never.
 */
export class Migration20261201170627 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "events" alter column "tenant_id" drop not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "events" where "tenant_id" is null;`);
    this.addSql(`alter table "events" alter column "tenant_id" set not null;`);
  }

}
