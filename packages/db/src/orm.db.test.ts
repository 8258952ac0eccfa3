import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./orm.ts";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

describe.runIf(process.env.TEST_DATABASE_URL)("the driver's own messages on postgres", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("postgres");
  });
  afterAll(() => db?.close());

  it("reach the given hook, not the console, when the pool finds a connection broken", async () => {
    const messages: string[] = [];
    const orm = await connect({
      url: db.url,
      poolSize: 2,
      onDriverMessage: (level, m) => messages.push(`${level} ${m}`),
    });
    try {
      await orm.em.getConnection().execute("select 1");
      // Cut the pool's connection from the server side, as a PostgreSQL restart would.
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      );
      await admin.end();
      await expect
        .poll(async () => {
          await orm.em
            .getConnection()
            .execute("select 1")
            .catch(() => undefined);
          return messages.some((m) => m.startsWith("warn Connection Error"));
        })
        .toBe(true);
    } finally {
      await orm.close(true);
    }
  });
});
