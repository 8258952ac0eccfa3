import { EVENT_RETENTION_MS, IDEMPOTENCY_WINDOW_MS } from "@arcadia/db";
import { createTestDatabase, type TestDatabase, testBackends } from "@arcadia/db/testing";
import { createLogger } from "@arcadia/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPass } from "./scheduler.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

// A pass at a chosen instant (`pnpm worker --once --now <time>`) bills as of that instant, but
// retention is real time: what was stored a moment ago stays, however far ahead the pass is.
describe.each(testBackends())("retention in a worker pass on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  const sql = <T>(text: string, params: unknown[] = []) =>
    db.orm.em.getConnection().execute<T[]>(text, params);

  /** An event recorded, and an idempotency key stored, `msAgo` before now; returns their ids. */
  const storedAgo = async (msAgo: number) => {
    const [event] = await sql<{ id: string }>(
      `insert into events (id, tenant_id, type, occurred_at, data, recorded_at)
       values (gen_random_uuid(), null, 'deployment.updated', now(), '{}', now() - make_interval(secs => ?))
       returning id::text`,
      [msAgo / 1000],
    );
    const [key] = await sql<{ id: string }>(
      `insert into idempotency_keys (id, principal_id, key, request_hash, status_code, response_body, created_at)
       values (gen_random_uuid(), 'p', gen_random_uuid()::text, 'h', 201, '{}', ?) returning id::text`,
      [new Date(Date.now() - msAgo)],
    );
    return { event: event!.id, key: key!.id };
  };

  it("a pass weeks ahead (--now) keeps recent events and stored replies; what is past retention goes", async () => {
    const fresh = await storedAgo(0);
    const old = await storedAgo(EVENT_RETENTION_MS + IDEMPOTENCY_WINDOW_MS + DAY_MS);
    await runPass(db.orm, createLogger("error"), { now: new Date(Date.now() + 60 * DAY_MS) });
    const events = await sql<{ id: string }>("select id::text from events where id::text in (?)", [
      [fresh.event, old.event],
    ]);
    const keys = await sql<{ id: string }>("select id::text from idempotency_keys where id::text in (?)", [
      [fresh.key, old.key],
    ]);
    expect(events.map((r) => r.id)).toEqual([fresh.event]);
    expect(keys.map((r) => r.id)).toEqual([fresh.key]);
  });
});
