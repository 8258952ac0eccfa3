import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testBackends } from "../testing/index.ts";
import { IDEMPOTENCY_WINDOW_MS, pruneIdempotencyKeys } from "./idempotency.ts";

describe.each(testBackends())("idempotency key pruning on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  it("removes stored responses older than the replay window and keeps the rest", async () => {
    const now = new Date("2026-11-25T12:00:00Z");
    const at = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
    const conn = db.orm.em.getConnection();
    for (const [key, ago] of [
      ["old-1", IDEMPOTENCY_WINDOW_MS + 1],
      ["old-2", 3 * IDEMPOTENCY_WINDOW_MS],
      ["fresh", IDEMPOTENCY_WINDOW_MS - 1000],
    ] as const) {
      await conn.execute(
        "insert into idempotency_keys (id, principal_id, key, request_hash, status_code, response_body, created_at) values (gen_random_uuid(), 'p', ?, 'h', 201, '{}', ?)",
        [key, at(ago)],
      );
    }
    expect(await pruneIdempotencyKeys(db.orm, now, 1)).toBe(2);
    const left = await conn.execute("select key from idempotency_keys order by key");
    expect(left.map((r) => r.key)).toEqual(["fresh"]);
  });
});
