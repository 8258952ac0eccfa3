import { fileURLToPath } from "node:url";
import { type MigrationObject, MikroORM, type Options } from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import { defineConfig, type PostgreSqlDriver } from "@mikro-orm/postgresql";
import { entities } from "./mapping/index.ts";
import { migrationsList } from "./migrations/index.ts";
import { driverLog } from "./shared/knex.ts";

export { poolStats } from "./shared/knex.ts";

export type Orm = MikroORM<PostgreSqlDriver>;

/**
 * How the connections of `url` reach PostgreSQL. `transaction`: through a transaction-mode pooler
 * (PgBouncer), where consecutive transactions of one client connection may run on different server
 * connections, so nothing may outlive a transaction: no named prepared queries, no session-level
 * advisory locks or settings. `none`: each client connection is a server session of its own.
 */
export type DatabasePooling = "none" | "transaction";

export interface DatabaseOptions {
  /** postgres:// URL of a PostgreSQL server (or of the embedded one's socket). */
  readonly url: string;
  /** See `DatabasePooling` (default `none`). */
  readonly pooling?: DatabasePooling;
  /** Upper bound of the connection pool. */
  readonly poolSize?: number;
  readonly debug?: boolean;
  /**
   * Where the driver's own warnings go (knex: "Connection Error: …" when the pool drops a broken
   * connection, deprecations). By default knex writes them to the console, outside any structured
   * log; the API and the worker pass their JSON logger.
   */
  readonly onDriverMessage?: (level: "warn" | "error" | "debug", message: string) => void;
  /**
   * Keep the committed schema snapshot (`migrations/.snapshot-arcadia.json`) in step: only the
   * `migration:create` tool sets this. Otherwise every migration run — each test database, each new
   * embedded data folder — would rewrite the committed file from whatever database it ran on.
   */
  readonly writeMigrationSnapshot?: boolean;
}

export const migrationsPath = fileURLToPath(new URL("./migrations", import.meta.url));

export function ormConfig(options: DatabaseOptions): Options<PostgreSqlDriver> {
  return defineConfig({
    clientUrl: options.url,
    entities,
    extensions: [Migrator],
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: options.debug ?? false,
    pool: { min: 0, max: options.poolSize ?? 10 },
    ...(options.onDriverMessage ? { driverOptions: driverLog(options.onDriverMessage) } : {}),
    discovery: { warnWhenNoEntities: true },
    // Connection errors and SQL never reach callers verbatim; the transports map them.
    migrations: {
      path: migrationsPath,
      pathTs: migrationsPath,
      tableName: "mikro_orm_migrations",
      transactional: true,
      allOrNothing: true,
      snapshot: options.writeMigrationSnapshot ?? false,
      snapshotName: ".snapshot-arcadia",
      silent: true,
      migrationsList: migrationsList as MigrationObject[],
    },
  });
}

const pooledPerTransaction = new WeakSet<object>();

/** Connects to the database (no schema changes). */
export async function connect(options: DatabaseOptions): Promise<Orm> {
  const orm = await MikroORM.init<PostgreSqlDriver>(ormConfig(options));
  if (options.pooling === "transaction") pooledPerTransaction.add(orm.config);
  return orm;
}

/** How the ORM's connections reach PostgreSQL (`connect`'s `pooling`). */
export function poolingOf(orm: { readonly config: object }): DatabasePooling {
  return pooledPerTransaction.has(orm.config) ? "transaction" : "none";
}
