import { randomBytes } from "node:crypto";
import pg from "pg";
import { startEmbeddedPostgres } from "../embedded/embedded-postgres.ts";
import { migrateAndSeed } from "../migrate.ts";
import { connect, type Orm } from "../orm.ts";
import { type UseCaseContext, useCaseContext } from "../shared/context.ts";

export type Backend = "embedded" | "postgres";

/** The backends database suites run on: always the embedded default, and PostgreSQL when TEST_DATABASE_URL is set. */
export function testBackends(): Backend[] {
  return process.env.TEST_DATABASE_URL ? ["embedded", "postgres"] : ["embedded"];
}

export interface TestDatabase {
  readonly backend: Backend;
  readonly url: string;
  readonly orm: Orm;
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
    url = withDatabase(adminUrl, name);
    dispose = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    };
  }
  const orm = await connect({ url, poolSize: options.poolSize ?? 10 });
  if (options.migrate !== false) await migrateAndSeed(orm);
  return {
    backend,
    url,
    orm,
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
