import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordEvents } from "../events/outbox.ts";
import {
  createTestDatabase,
  operator,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testContext,
} from "../testing/index.ts";
import { fanOutEvents } from "./dispatch.ts";
import { createWebhookEndpoint } from "./endpoints.ts";

// The fan-out's horizon is this database's oldest running transaction, not the server's: it needs
// a second database on the same server, so it runs only with TEST_DATABASE_URL.
const enabled = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!enabled)("webhook fan-out horizon on PostgreSQL", () => {
  let db: TestDatabase;
  let elsewhere: TestDatabase;
  const clock = new TestClock(new Date("2026-11-20T10:00:00Z"));
  beforeAll(async () => {
    db = await createTestDatabase("postgres");
    elsewhere = await createTestDatabase("postgres", { migrate: false });
  });
  afterAll(async () => {
    await elsewhere?.close();
    await db?.close();
  });

  /** A session holding a transaction open (with an id, as a writer has) on `url`. */
  async function openTransaction(url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("begin");
    await client.query("select pg_current_xact_id()");
    return client;
  }
  const deliveries = async () =>
    (
      await db.orm.em
        .fork()
        .getConnection()
        .execute<{ n: number }[]>("select count(*)::int as n from webhook_deliveries")
    )[0]!.n;

  it("is not held back by another database's long transaction, only by this database's, and still fans out every event once", async () => {
    const t = await tenantFixture(db.orm, clock);
    await createWebhookEndpoint(
      testContext(db.orm, clock),
      operator,
      { url: "http://127.0.0.1:9/hooks" },
      { allowPrivateNetworks: true },
    );
    const event = (n: number) => ({
      type: "deployment.updated" as const,
      tenantId: t.tenantId,
      occurredAt: clock.now(),
      data: { n },
    });
    while ((await fanOutEvents(db.orm, clock.now())) > 0);
    const before = await deliveries();

    // Another database's transaction, older than the event: the event is fanned out all the same.
    const other = await openTransaction(elsewhere.directUrl!);
    try {
      await db.orm.em.fork().transactional((em) => recordEvents(em, [event(1)]));
      expect(await fanOutEvents(db.orm, clock.now())).toBe(1);
      expect(await deliveries()).toBe(before + 1);
    } finally {
      await other.query("rollback");
      await other.end();
    }

    // This database's transaction, older than the next event and writing one itself: nothing
    // passes it until it commits, then both are fanned out, once each.
    const ours = await openTransaction(db.directUrl!);
    try {
      await ours.query(
        `insert into events (id, tenant_id, type, occurred_at, data)
         values (gen_random_uuid(), $1, 'deployment.updated', now(), '{"n": 2}')`,
        [t.tenantId],
      );
      await db.orm.em.fork().transactional((em) => recordEvents(em, [event(3)]));
      expect(await fanOutEvents(db.orm, clock.now())).toBe(0);
      await ours.query("commit");
    } finally {
      await ours.end();
    }
    expect(await fanOutEvents(db.orm, clock.now())).toBe(2);
    expect(await fanOutEvents(db.orm, clock.now())).toBe(0);
    expect(await deliveries()).toBe(before + 3);
  });
});
