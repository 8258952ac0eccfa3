import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction } from "../shared/sql.ts";
import {
  codeOf,
  createTestDatabase,
  operator,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
  waitForFeed,
} from "../testing/index.ts";
import { getEvent, listEvents } from "./feed.ts";
import { recordEvents } from "./outbox.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testBackends({ pooled: true }))("the event feed on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T10:00:00.000Z"));
  let t: TenantFixture;
  let other: TenantFixture;
  const ctx = () => testContext(db.orm, clock);

  beforeAll(async () => {
    db = await createTestDatabase(backend, { poolSize: 20 });
    t = await tenantFixture(db.orm, clock);
    other = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  it("a consumer polling while 16 writers commit out of order sees every event exactly once", async () => {
    const writers = 16;
    const transactionsPerWriter = backend === "embedded" ? 6 : 15;
    let writing = true;
    const seen: string[] = [];
    let cursor: string | undefined;
    const poll = async () => {
      for (;;) {
        const page = await listEvents(ctx(), t.admin, { after: cursor, limit: 7 });
        expect(page.nextCursor).toEqual(expect.any(String));
        cursor = page.nextCursor;
        seen.push(...page.items.map((e) => e.id));
        if (page.items.length === 0) return;
      }
    };
    const consumer = (async () => {
      while (writing) {
        await poll();
        await sleep(3);
      }
    })();
    // Each transaction records its events, then holds on a while before committing (a random
    // time, or it fails and rolls back), so transactions commit in another order than they began.
    const written: string[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < transactionsPerWriter; i++) {
          const ids = Array.from({ length: 1 + ((w + i) % 3) }, () => ctx().newId());
          const rollBack = (w * 7 + i) % 5 === 0;
          try {
            await inTransaction(db.orm.em, async (sql) => {
              await recordEvents(
                sql,
                ids.map((id, k) => ({
                  id,
                  type: "deployment.updated" as const,
                  // The third event of a transaction is another tenant's or a platform event:
                  // neither reaches this tenant's consumer.
                  tenantId: k === 2 ? (i % 2 === 0 ? other.tenantId : null) : t.tenantId,
                  occurredAt: clock.now(),
                  data: { writer: w, i, k },
                })),
              );
              await sleep(Math.floor(Math.random() * 15));
              if (rollBack) throw new Error("roll back");
            });
            written.push(...ids.filter((_, k) => k !== 2));
          } catch (error) {
            if (!rollBack) throw error;
          }
        }
      }),
    );
    writing = false;
    await consumer;
    const table = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>("select id from events where tenant_id = ?", [t.tenantId]);
    // The feed serves an event once every older transaction in the cluster has finished: other
    // suites' transactions on the same server may hold it back a moment, so keep polling.
    for (let waited = 0; new Set(seen).size < table.length && waited < 30_000; waited += 50) {
      await poll();
      await sleep(50);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(table.map((r) => r.id)));
    expect(new Set(seen)).toEqual(new Set(written));
    expect(written.length).toBeGreaterThan(writers);
  });

  it("resumes from the last page's cursor; filters by type; scopes by tenant", async () => {
    const start = await listEvents(ctx(), operator, { limit: 200, tenantId: t.tenantId });
    let cursor = start.nextCursor;
    for (let page = start; page.items.length > 0; ) {
      page = await listEvents(ctx(), operator, { after: cursor, limit: 200, tenantId: t.tenantId });
      cursor = page.nextCursor;
    }
    // The platform-wide feed has its own position: other tenants' earlier events (the writers
    // above) may sort after this tenant's last one, so drain it separately.
    await waitForFeed(db.orm);
    let platformCursor = (await listEvents(ctx(), operator, { limit: 200 })).nextCursor;
    for (;;) {
      const page = await listEvents(ctx(), operator, { after: platformCursor, limit: 200 });
      platformCursor = page.nextCursor;
      if (page.items.length === 0) break;
    }
    await inTransaction(db.orm.em, (sql) =>
      recordEvents(sql, [
        { type: "resource.registered", tenantId: t.tenantId, occurredAt: clock.now(), data: { n: 1 } },
        { type: "resource.released", tenantId: t.tenantId, occurredAt: clock.now(), data: { n: 2 } },
        { type: "resource.registered", tenantId: other.tenantId, occurredAt: clock.now(), data: { n: 3 } },
        { type: "webhook_endpoint.disabled", tenantId: null, occurredAt: clock.now(), data: { n: 4 } },
      ]),
    );
    await waitForFeed(db.orm);
    const later = await listEvents(ctx(), t.viewer, { after: cursor, limit: 200 });
    expect(later.items.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    const again = await listEvents(ctx(), t.viewer, { after: later.nextCursor, limit: 200 });
    expect(again).toEqual({ items: [], nextCursor: expect.any(String) });
    const filtered = await listEvents(ctx(), t.viewer, { after: cursor, types: ["resource.released"] });
    expect(filtered.items.map((e) => e.data)).toEqual([{ n: 2 }]);
    const platform = await listEvents(ctx(), operator, { after: platformCursor, limit: 200 });
    expect(platform.items.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    // A platform event (no tenant): operators only, in the whole feed and by id; no tenant's feed
    // (nor an operator's view of one tenant's) has it, and by id it is NOT_FOUND to tenants.
    const platformEvent = platform.items[3]!;
    expect(platformEvent.tenantId).toBeNull();
    expect(await getEvent(ctx(), operator, platformEvent.id)).toEqual(platformEvent);
    for (const principal of [t.admin, t.viewer, other.admin]) {
      expect(await codeOf(getEvent(ctx(), principal, platformEvent.id))).toBe("NOT_FOUND");
    }
    expect(
      (await listEvents(ctx(), other.viewer, { limit: 200 })).items.some(
        (e) => e.tenantId !== other.tenantId,
      ),
    ).toBe(false);
    const oneTenant = await listEvents(ctx(), operator, {
      after: cursor,
      limit: 200,
      tenantId: other.tenantId,
    });
    expect(oneTenant.items.map((e) => e.tenantId)).toEqual(oneTenant.items.map(() => other.tenantId));
    expect(oneTenant.items.map((e) => e.data)).toContainEqual({ n: 3 });

    const one = later.items[0]!;
    expect(await getEvent(ctx(), t.viewer, one.id)).toEqual(one);
    expect(await codeOf(getEvent(ctx(), other.admin, one.id))).toBe("NOT_FOUND");
    expect(await codeOf(getEvent(ctx(), t.admin, "nope"))).toBe("NOT_FOUND");
    expect(await codeOf(listEvents(ctx(), t.admin, { after: "garbage!" }))).toBe("VALIDATION_FAILED");
  });
});
