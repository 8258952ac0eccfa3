import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testBackends } from "../testing/index.ts";
import { EVENT_RETENTION_MS, pruneEvents } from "./feed.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

describe.each(testBackends())("event retention on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  /** A platform event recorded `msAgo` before the database's clock. */
  const recordedAgo = async (msAgo: number): Promise<string> => {
    const [row] = await db.orm.em.getConnection().execute<{ id: string }[]>(
      `insert into events (id, tenant_id, type, occurred_at, data, recorded_at)
         values (gen_random_uuid(), null, 'deployment.updated', now(), '{}', now() - make_interval(secs => ?))
         returning id`,
      [msAgo / 1000],
    );
    return row!.id;
  };

  it("deletes what the database's clock says is past the retention, in chunks, and keeps the rest (at least 30 days)", async () => {
    const old = [await recordedAgo(EVENT_RETENTION_MS + DAY_MS), await recordedAgo(3 * EVENT_RETENTION_MS)];
    const kept = [
      await recordedAgo(30 * DAY_MS),
      await recordedAgo(EVENT_RETENTION_MS - 60_000),
      await recordedAgo(0),
    ];
    expect(EVENT_RETENTION_MS).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect(await pruneEvents(db.orm, 1)).toBe(old.length);
    const left = await db.orm.em
      .getConnection()
      .execute<{ id: string }[]>("select id::text from events where id::text in (?)", [[...old, ...kept]]);
    expect(left.map((r) => r.id).sort()).toEqual([...kept].sort());
  });
});
