import { Migration } from '@mikro-orm/migrations';
import { DEPLOYMENT_DOCUMENT_FUNCTION } from './Migration20261201130000.ts';

/**
 * The row-shaped deployment document (`arcadia_deployment_document`, Migration20261201130000) is
 * read by nothing any more: the API reads the document as JSON built by PostgreSQL, pooled through
 * its generated function (`arcadia_document_json_<hash>`, created by `migrateAndSeed`). Dropped
 * here, the contract step after the release that stopped calling it.
 */
export class Migration20261201182000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop function if exists arcadia_deployment_document(uuid);`);
  }

  override async down(): Promise<void> {
    // The release before this one may still call it.
    this.addSql(DEPLOYMENT_DOCUMENT_FUNCTION);
  }

}
