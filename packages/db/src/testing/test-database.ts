import { randomBytes } from "node:crypto";
import pg from "pg";
import { startEmbeddedPostgres } from "../embedded/embedded-postgres.ts";
import { migrateAndSeed } from "../migrate.ts";
import { connect, type Orm } from "../orm.ts";
import { type UseCaseContext, useCaseContext } from "../shared/context.ts";

/**
 * `pooled`: the TEST_DATABASE_URL server reached through a transaction-mode PgBouncer at
 * TEST_POOLED_DATABASE_URL, with `DATABASE_POOLING=transaction` (the production topology).
 */
export type Backend = "embedded" | "postgres" | "pooled";

/**
 * The backends database suites run on: always the embedded default, PostgreSQL when
 * TEST_DATABASE_URL is set, and — for the suites that matter to the production topology, which
 * pass `{ pooled: true }` — PostgreSQL through PgBouncer when TEST_POOLED_DATABASE_URL is set too
 * (`.ci/run` starts one; see `topology.db.test.ts`, which says when it is skipped).
 */
export function testBackends(options: { pooled?: boolean } = {}): Backend[] {
  const backends: Backend[] = ["embedded"];
  if (process.env.TEST_DATABASE_URL) backends.push("postgres");
  if (options.pooled && pooledTestsEnabled()) backends.push("pooled");
  return backends;
}

/** Whether the PgBouncer backend is configured (TEST_POOLED_DATABASE_URL next to TEST_DATABASE_URL). */
export function pooledTestsEnabled(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_POOLED_DATABASE_URL);
}

export interface TestDatabase {
  readonly backend: Backend;
  /** What the ORM connects to (for `pooled`, the PgBouncer address of this database). */
  readonly url: string;
  /** This database without the pooler (the same as `url` unless `pooled`; null when embedded). */
  readonly directUrl: string | null;
  readonly orm: Orm;
  /** The environment a process (`pnpm api`, `pnpm worker`) needs to reach this database. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * A fresh, migrated and seeded database of its own for one test file: an in-memory embedded
 * PostgreSQL, or a new database on the TEST_DATABASE_URL server (dropped on close).
 */
export async function createTestDatabase(
  backend: Backend,
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<TestDatabase> {
  let url: string;
  let directUrl: string | null = null;
  let dispose: () => Promise<void>;
  if (backend === "embedded") {
    const embedded = await startEmbeddedPostgres();
    url = embedded.url;
    dispose = () => embedded.stop();
  } else {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
    const name = `arcadia_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    directUrl = withDatabase(adminUrl, name);
    url = directUrl;
    if (backend === "pooled") {
      const pooledUrl = process.env.TEST_POOLED_DATABASE_URL;
      if (!pooledUrl) throw new Error("TEST_POOLED_DATABASE_URL is not set");
      url = withDatabase(pooledUrl, name);
    }
    dispose = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    };
  }
  const pooling = backend === "pooled" ? "transaction" : "none";
  const orm = await connect({ url, pooling, poolSize: options.poolSize ?? 10 });
  // Through the pooler too (no DIRECT_DATABASE_URL): the harder case for the migration lock.
  if (options.migrate !== false) await migrateAndSeed(orm);
  return {
    backend,
    url,
    directUrl,
    orm,
    env: { DATABASE_URL: url, ...(backend === "pooled" ? { DATABASE_POOLING: "transaction" } : {}) },
    async close() {
      await orm.close(true);
      await dispose();
    },
  };
}

/** A controllable clock for tests. */
export class TestClock {
  constructor(private instant: Date) {}
  now = (): Date => new Date(this.instant.getTime());
  set(instant: Date | string): void {
    this.instant = new Date(instant);
  }
  advance(ms: number): void {
    this.instant = new Date(this.instant.getTime() + ms);
  }
}

export function testContext(
  orm: Orm,
  clock: TestClock,
  regions: readonly string[] = ["au-syd", "au-mel", "ap-sgp", "eu-fra", "us-iad"],
): UseCaseContext {
  return useCaseContext(orm.em.fork(), clock.now, regions);
}
