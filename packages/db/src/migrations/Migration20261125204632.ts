import { Migration } from '@mikro-orm/migrations';

export class Migration20261125204632 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "subscriptions_due_index";`);

    this.addSql(`create index "subscriptions_due_index" on "subscriptions" ("current_period_end", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "subscriptions_due_index";`);

    this.addSql(`create index "subscriptions_due_index" on "subscriptions" ("current_period_end");`);
  }

}
