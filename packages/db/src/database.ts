import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded/embedded-postgres.ts";
import { migrateAndSeed } from "./migrate.ts";
import { connect, type DatabaseOptions, type DatabasePooling, type Orm } from "./orm.ts";

export interface Database {
  readonly orm: Orm;
  /** The URL clients use; for the embedded database, its loopback socket. */
  readonly url: string;
  readonly kind: "postgres" | "embedded";
  /** How `url`'s connections reach PostgreSQL (`DATABASE_POOLING`; always `none` when embedded). */
  readonly pooling: DatabasePooling;
  /**
   * Where a connection that must keep a session (LISTEN, a session-level lock or setting) goes:
   * `url` itself unless it is pooled per transaction, then `DIRECT_DATABASE_URL`, and null when
   * pooled without one — then poll instead of listening (`wakeUps`). Null too on the embedded
   * database, whose socket bridge does not forward notifications.
   */
  readonly sessionUrl: string | null;
  /** The folder the embedded database lives in (none for PostgreSQL). */
  readonly dataDir?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL URL; when absent the embedded database is started (or joined) in `dataDir`. */
  readonly url?: string;
  readonly dataDir?: string;
  readonly embeddedPort?: number;
  /** `DATABASE_POOLING`: `transaction` when `url` goes through a transaction-mode pooler. */
  readonly pooling?: DatabasePooling;
  /**
   * `DIRECT_DATABASE_URL`: the same database without the pooler, for migrations and for
   * connections that keep a session. Used only with `pooling: "transaction"`.
   */
  readonly directUrl?: string;
  readonly poolSize?: number;
  /** Apply migrations and seed the default catalog (default true). */
  readonly migrate?: boolean;
  /** See `DatabaseOptions.onDriverMessage`. */
  readonly onDriverMessage?: DatabaseOptions["onDriverMessage"];
}

/** The default folder of the embedded database: `.data/pglite` at the repository root (git-ignored). */
export const defaultDataDir = fileURLToPath(new URL("../../../.data/pglite", import.meta.url));

/** Opens the configured database: PostgreSQL when a URL is given, the embedded default otherwise. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null;
  let url = options.url;
  const dataDir = url ? undefined : (options.dataDir ?? defaultDataDir);
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: dataDir!,
      port: options.embeddedPort ?? 54329,
    });
    url = embedded.url;
  }
  const pooling: DatabasePooling = embedded ? "none" : (options.pooling ?? "none");
  const directUrl = pooling === "transaction" ? (options.directUrl ?? null) : null;
  const orm = await connect({
    url,
    pooling,
    poolSize: options.poolSize ?? (embedded ? 8 : 10),
    onDriverMessage: options.onDriverMessage,
  });
  try {
    if (options.migrate !== false) {
      if (directUrl) await migrateOver(directUrl, options.onDriverMessage);
      else await migrateAndSeed(orm);
    }
  } catch (error) {
    await orm.close(true);
    await embedded?.stop();
    throw error;
  }
  return {
    orm,
    url,
    kind: embedded ? "embedded" : "postgres",
    pooling,
    sessionUrl: embedded ? null : pooling === "transaction" ? directUrl : url,
    ...(dataDir ? { dataDir } : {}),
    async close() {
      await orm.close(true);
      await embedded?.stop();
    },
  };
}

/**
 * Migrations over the direct URL, past the pooler: a schema change is one long transaction, which a
 * pooler's query and transaction timeouts are not sized for. A short-lived connection of its own.
 */
async function migrateOver(
  directUrl: string,
  onDriverMessage: DatabaseOptions["onDriverMessage"],
): Promise<void> {
  const direct = await connect({ url: directUrl, poolSize: 2, onDriverMessage });
  try {
    await migrateAndSeed(direct);
  } finally {
    await direct.close(true);
  }
}

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  // Relative to where the command was typed (pnpm runs package scripts inside the package).
  return env.DATA_DIR ? resolve(env.INIT_CWD ?? process.cwd(), env.DATA_DIR) : defaultDataDir;
}
