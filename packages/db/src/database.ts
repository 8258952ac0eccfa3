import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded/embedded-postgres.ts";
import { migrateAndSeed } from "./migrate.ts";
import { connect, type DatabaseOptions, type Orm } from "./orm.ts";

export interface Database {
  readonly orm: Orm;
  /** The URL clients use; for the embedded database, its loopback socket. */
  readonly url: string;
  readonly kind: "postgres" | "embedded";
  /** The folder the embedded database lives in (none for PostgreSQL). */
  readonly dataDir?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL URL; when absent the embedded database is started (or joined) in `dataDir`. */
  readonly url?: string;
  readonly dataDir?: string;
  readonly embeddedPort?: number;
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
  const orm = await connect({
    url,
    poolSize: options.poolSize ?? (embedded ? 8 : 10),
    onDriverMessage: options.onDriverMessage,
  });
  try {
    if (options.migrate !== false) await migrateAndSeed(orm);
  } catch (error) {
    await orm.close(true);
    await embedded?.stop();
    throw error;
  }
  return {
    orm,
    url,
    kind: embedded ? "embedded" : "postgres",
    ...(dataDir ? { dataDir } : {}),
    async close() {
      await orm.close(true);
      await embedded?.stop();
    },
  };
}

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  // Relative to where the command was typed (pnpm runs package scripts inside the package).
  return env.DATA_DIR ? resolve(env.INIT_CWD ?? process.cwd(), env.DATA_DIR) : defaultDataDir;
}
