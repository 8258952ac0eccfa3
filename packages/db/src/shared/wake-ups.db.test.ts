import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { wakeUps } from "./wake-ups.ts";

// LISTEN needs a real PostgreSQL session (the embedded database's bridge forwards no
// notifications, so `wakeUps` polls there): this suite runs only with TEST_DATABASE_URL.
const enabled = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!enabled)("wakeUps over LISTEN on PostgreSQL", () => {
  let db: TestDatabase;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase("postgres", { migrate: false });
    admin = new pg.Client({ connectionString: db.directUrl! });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.close();
  });

  /** The backend pid of whoever LISTENs on `channel` in this database, if anyone. */
  const listener = async (channel: string): Promise<number | null> => {
    const { rows } = await admin.query<{ pid: number }>(
      `select pid from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and query = $1`,
      [`listen ${channel}`],
    );
    return rows[0]?.pid ?? null;
  };
  const until = async (done: () => boolean | Promise<boolean>, what: string) => {
    for (let waited = 0; !(await done()); waited += 20) {
      if (waited > 15_000) throw new Error(`never happened: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("reopens its connection after the server drops it (pg_terminate_backend) and wakes on NOTIFY again", async () => {
    const channel = "arcadia_test_reconnect";
    let heard = 0;
    const errors: Error[] = [];
    // Polls far apart: every wake below comes from a notification or from the reconnection itself.
    const wakes = await wakeUps(
      { sessionUrl: db.directUrl },
      channel,
      () => {
        heard += 1;
      },
      { pollMs: 600_000, safetyPollMs: 600_000, onError: (error) => errors.push(error) },
    );
    try {
      expect(wakes.mode).toBe("listen");
      await until(() => heard > 0, "the wake-up after LISTEN");
      const notify = () => admin.query("select pg_notify($1, '')", [channel]);

      await until(async () => (await listener(channel)) !== null, "a listening session");
      let before = heard;
      await notify();
      await until(() => heard > before, "a wake-up on NOTIFY");

      for (let drop = 1; drop <= 2; drop++) {
        const first = (await listener(channel))!;
        before = heard;
        await admin.query("select pg_terminate_backend($1)", [first]);
        await until(() => errors.length >= drop, "the lost connection reported");
        // Reopened: another session listens, and it wakes the loop once for what it may have missed.
        await until(async () => {
          const pid = await listener(channel);
          return pid !== null && pid !== first;
        }, "a new listening session");
        await until(() => heard > before, "the wake-up after reconnecting");
        before = heard;
        await notify();
        await until(() => heard > before, "a wake-up on NOTIFY after reconnecting");
      }
    } finally {
      await wakes.close();
    }
    // Closed: nothing listens any more.
    await until(async () => (await listener(channel)) === null, "no listener after close");
  });
});
