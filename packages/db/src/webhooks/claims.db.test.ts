import type { Principal } from "@arcadia/domain";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  operator,
  recordTenantEvents,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import {
  type AttemptOutcome,
  CLAIM_DUE_DELIVERIES,
  claimAndFailDueDeliveries,
  claimDueDeliveries,
  type DueDelivery,
  FAN_OUT,
  fanOutAndLease,
  fanOutEvents,
  RECORD_ATTEMPTS,
  recordAttemptOutcomes,
  recordedAttemptsParameter,
  recoverWebhookLeases,
  releaseDeliveries,
} from "./dispatch.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  redeliverWebhookEvent,
  updateWebhookEndpoint,
} from "./endpoints.ts";

// A claim is a lease: what the claim, the outcome and the hand-back each do to a delivery that
// another worker, or a redelivery, has touched meanwhile.

/** An endpoint of its own (the others disabled, so claims see only its deliveries) with `events` queued. */
async function endpointWithDeliveries(db: TestDatabase, clock: TestClock, events: number) {
  await db.orm.em.fork().getConnection().execute("update webhook_endpoints set enabled = false");
  const t = await tenantFixture(db.orm, clock);
  const { endpoint } = await createWebhookEndpoint(
    testContext(db.orm, clock),
    t.admin,
    { url: "http://127.0.0.1:9/hooks" },
    { allowPrivateNetworks: true },
  );
  await recordTenantEvents(db.orm, t.tenantId, events, clock.now());
  while ((await fanOutEvents(db.orm, clock.now())) > 0);
  return { t, endpoint };
}

/** An endpoint's delivery rows and log lines. */
async function countsOf(db: TestDatabase, endpointId: string) {
  const [row] = await db.orm.em
    .fork()
    .getConnection()
    .execute<{ deliveries: number; attempts: number }[]>(
      `select (select count(*) from webhook_deliveries where endpoint_id = ?)::int as deliveries,
              (select count(*) from webhook_attempts where endpoint_id = ?)::int as attempts`,
      [endpointId, endpointId],
    );
  return row!;
}

const answered = (delivery: DueDelivery, at: Date): AttemptOutcome => ({
  delivery,
  attemptedAt: at,
  durationMs: 1,
  responseStatus: 204,
  error: null,
});

describe.each(testBackends())("webhook claims on %s", (backend) => {
  let db: TestDatabase;
  // Milliseconds in the clock: a lease must survive the trip through the database to the millisecond.
  const clock = new TestClock(new Date("2026-11-20T10:00:00.123Z"));
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  /** Enables or disables an endpoint as its tenant's admin would. */
  const setEnabled = (t: { admin: Principal }, endpointId: string, enabled: boolean) =>
    updateWebhookEndpoint(
      testContext(db.orm, clock),
      t.admin,
      endpointId,
      { enabled },
      { allowPrivateNetworks: true },
    );

  const row = async (id: string) =>
    (
      await db.orm.em
        .fork()
        .getConnection()
        .execute<{ status: string; attempts: number; next: string; leased: string | null }[]>(
          `select status, attempts, next_attempt_at::text as next, leased_until::text as leased
             from webhook_deliveries where id = ?`,
          [id],
        )
    )[0]!;

  it("an outcome or a hand-back applies only while the delivery holds its claim's lease", async () => {
    const { t, endpoint } = await endpointWithDeliveries(db, clock, 1);
    const claim = () => claimDueDeliveries(db.orm, { now: clock.now(), limit: 10, perEndpoint: 10 });

    // A handed-back delivery is due again in its place: its due time unchanged, no lease, the
    // attempt not spent.
    const [first] = await claim();
    const due = (await row(first!.deliveryId)).next;
    await releaseDeliveries(db.orm, [first!]);
    expect(await row(first!.deliveryId)).toEqual({ status: "pending", attempts: 0, next: due, leased: null });

    // W1 claims attempt 1; the delivery is redelivered by hand while W1's request runs, and W2
    // claims it afresh in the same millisecond: attempt 1 again, the same lease end, a lease of
    // its own all the same.
    const [w1] = await claim();
    expect(w1!.attempt).toBe(1);
    await redeliverWebhookEvent(testContext(db.orm, clock), t.admin, endpoint.id, w1!.eventId);
    const [w2] = await claim();
    expect([w2!.deliveryId, w2!.attempt]).toEqual([w1!.deliveryId, 1]);
    expect(w2!.leaseId).not.toBe(w1!.leaseId);

    // W1's hand-back and W1's outcome leave W2's claim alone (attempt number and lease end are
    // equal: only the claim's token tells the two apart); W1's attempt is logged all the same.
    await releaseDeliveries(db.orm, [w1!]);
    await recordAttemptOutcomes(db.orm, [answered(w1!, clock.now())], clock.now());
    expect(await row(w2!.deliveryId)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await row(w2!.deliveryId)).leased).not.toBeNull();
    // W2's own outcome moves it on.
    await recordAttemptOutcomes(db.orm, [answered(w2!, clock.now())], clock.now());
    expect(await row(w2!.deliveryId)).toMatchObject({ status: "succeeded", attempts: 1, leased: null });
    const [logged] = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ n: number }[]>("select count(*)::int as n from webhook_attempts where delivery_id = ?", [
        w2!.deliveryId,
      ]);
    expect(logged?.n).toBe(2);
  });

  /**
   * A fan-out that has events to read: again while it reads none. A read's horizon may count a
   * transaction of another database (another suite's) that ended between its snapshot and its look
   * at `pg_stat_activity` as one of ours, and hold the page back until the next read.
   */
  async function readingFanOut(now: Date, options: Parameters<typeof fanOutAndLease>[2] = {}) {
    for (let tries = 1; ; tries++) {
      const result = await fanOutAndLease(db.orm, now, options);
      if (result.events > 0 || tries >= 100) return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("a fan-out with a lease hands over what fits each endpoint's room under one lease for the page, and queues the rest due", async () => {
    // Two endpoints of one tenant (the others disabled): A has room for 3 (one of its 5 already
    // held here), B the default room of 2; 4 events.
    await db.orm.em.fork().getConnection().execute("update webhook_endpoints set enabled = false");
    const t = await tenantFixture(db.orm, clock);
    const create = async () =>
      (
        await createWebhookEndpoint(
          testContext(db.orm, clock),
          t.admin,
          { url: "http://127.0.0.1:9/hooks" },
          { allowPrivateNetworks: true },
        )
      ).endpoint;
    const a = await create();
    const b = await create();
    await recordTenantEvents(db.orm, t.tenantId, 4, clock.now());
    const now = clock.now();
    const { events, leased, queued, others } = await readingFanOut(now, {
      lease: {
        limit: 10,
        perEndpoint: 2,
        perEndpointOf: new Map([[a.id, 4]]),
        busy: new Map([[a.id, 1]]),
        leaseMs: 30_000,
      },
    });
    // (Two endpoints enabled: `others` says whether there is one.)
    expect([events, queued, others]).toEqual([4, 3, true]);
    const byEndpoint = (id: string) => leased.filter((d) => d.endpointId === id);
    expect([byEndpoint(a.id).length, byEndpoint(b.id).length]).toEqual([3, 2]);
    // Handed over as first attempts, in feed order, with their bodies and the endpoint's secret,
    // all under the page's one lease — and no row of their own.
    expect(leased.every((d) => d.attempt === 1 && d.paged && d.secrets.length === 1)).toBe(true);
    const leaseIds = new Set(leased.map((d) => d.leaseId));
    expect(leaseIds.size).toBe(1);
    const [leaseId] = leaseIds;
    expect(byEndpoint(a.id).map((d) => JSON.parse(d.body).data.n as number)).toEqual([0, 1, 2]);
    const conn = () => db.orm.em.fork().getConnection();
    /** Delivery rows of these deliveries (by id, or by endpoint and event). */
    const rowsOf = async (deliveries: readonly DueDelivery[]) => {
      let n = 0;
      for (const d of deliveries) {
        const [found] = await conn().execute<{ n: number }[]>(
          "select count(*)::int as n from webhook_deliveries where id = ? or (endpoint_id = ? and event_id = ?)",
          [d.deliveryId, d.endpointId, d.eventId],
        );
        n += found!.n;
      }
      return n;
    };
    expect(await rowsOf(leased)).toBe(0);
    const [page] = await conn().execute<{ endpoints: string[]; ms: string }[]>(
      "select endpoint_ids as endpoints, (extract(epoch from leased_until) * 1000)::bigint::text as ms from webhook_leases where id = ?",
      [leaseId],
    );
    expect(new Set(page!.endpoints)).toEqual(new Set([a.id, b.id]));
    expect(Number(page!.ms)).toBe(now.getTime() + 30_000);

    // No claim sees them; the three queued due are claimable now.
    const claimed = await claimDueDeliveries(db.orm, { now, limit: 10, perEndpoint: 10 });
    expect(claimed.map((d) => `${d.endpointId === a.id ? "A" : "B"}${d.attempt}`).sort()).toEqual([
      "A1",
      "B1",
      "B1",
    ]);

    // A's first succeeds (its log line, no row); its second fails (a row, due for the retry, its
    // first attempt spent); its third is handed back unsent (a row due now, no attempt spent).
    const [a1, a2, a3] = byEndpoint(a.id);
    await recordAttemptOutcomes(
      db.orm,
      [answered(a1!, now), { ...answered(a2!, now), responseStatus: 500 }],
      now,
    );
    expect(await rowsOf([a1!])).toBe(0);
    const [retry] = await conn().execute<{ attempts: number; status: string; later: boolean }[]>(
      "select attempts, status, next_attempt_at > ? as later from webhook_deliveries where id = ?",
      [now, a2!.deliveryId],
    );
    expect(retry).toEqual({ attempts: 1, status: "pending", later: true });
    await releaseDeliveries(db.orm, [a3!], { now });
    expect(await row(a3!.deliveryId)).toMatchObject({ status: "pending", attempts: 0, leased: null });
    const [logged] = await conn().execute<{ n: number }[]>(
      "select count(*)::int as n from webhook_attempts where endpoint_id = ?",
      [a.id],
    );
    expect(logged!.n).toBe(2);

    // B's two were never answered (their worker died). Before the lease runs out, nothing; after,
    // recovery queues them due (not A's: its first succeeded, the others have rows), once.
    expect(await recoverWebhookLeases(db.orm, new Date(now.getTime() + 29_999))).toEqual({
      pages: 0,
      queued: 0,
    });
    const later = new Date(now.getTime() + 30_000);
    expect(await recoverWebhookLeases(db.orm, later)).toEqual({ pages: 1, queued: 2 });
    expect(await recoverWebhookLeases(db.orm, later)).toEqual({ pages: 0, queued: 0 });
    expect(await conn().execute("select id from webhook_leases where id = ?", [leaseId])).toEqual([]);
    const again = await claimDueDeliveries(db.orm, { now: later, limit: 20, perEndpoint: 20 });
    const pairs = (ds: readonly DueDelivery[]) =>
      ds.map((d) => `${d.endpointId} ${d.eventId} ${d.attempt}`).sort();
    // B's two as first attempts; A's third (handed back) as its first; A's second as its retry;
    // the three claimed at first, whose claim ran out meanwhile, as their second.
    expect(pairs(again)).toEqual(
      pairs([
        ...byEndpoint(b.id),
        a3!,
        { ...a2!, attempt: 2 },
        ...claimed.map((d) => ({ ...d, attempt: 2 })),
      ]),
    );
  });

  it("a page recovered while its endpoint is disabled keeps its deliveries, sent once it is enabled again", async () => {
    const { t, endpoint } = await endpointWithDeliveries(db, clock, 0);
    await recordTenantEvents(db.orm, t.tenantId, 2, clock.now());
    const now = clock.now();
    const { leased } = await readingFanOut(now, { lease: { limit: 10, perEndpoint: 10, leaseMs: 30_000 } });
    expect(leased).toHaveLength(2);
    // Its worker dies; the endpoint is disabled; the lease runs out and the page is recovered.
    await setEnabled(t, endpoint.id, false);
    const later = new Date(now.getTime() + 30_000);
    expect(await recoverWebhookLeases(db.orm, later)).toEqual({ pages: 1, queued: 2 });
    expect(await claimDueDeliveries(db.orm, { now: later, limit: 10, perEndpoint: 10 })).toEqual([]);
    // Enabled again (which starts its fan-out afresh): what was already its own is still sent,
    // under the ids drawn for it.
    await setEnabled(t, endpoint.id, true);
    const claimed = await claimDueDeliveries(db.orm, { now: later, limit: 10, perEndpoint: 10 });
    expect(new Set(claimed.map((d) => d.deliveryId))).toEqual(new Set(leased.map((d) => d.deliveryId)));
    expect(claimed.every((d) => d.attempt === 1)).toBe(true);
  });

  it("a delivery whose event is gone (pruned while it waited) fails at its next claim, unsent, and is not claimed again", async () => {
    const { t, endpoint } = await endpointWithDeliveries(db, clock, 3);
    const conn = db.orm.em.fork().getConnection();
    const deliveries = await conn.execute<{ id: string; event_id: string }[]>(
      "select id::text, event_id::text from webhook_deliveries where endpoint_id = ? order by id",
      [endpoint.id],
    );
    expect(deliveries).toHaveLength(3);
    // Its endpoint disabled for longer than events are kept: the first event is pruned meanwhile.
    await setEnabled(t, endpoint.id, false);
    await conn.execute("delete from events where id = ?", [deliveries[0]!.event_id]);
    await setEnabled(t, endpoint.id, true);
    // A claim with room for one: the failed one took it, and the claim says so (the queue is not
    // empty); the next takes the others.
    expect(await claimAndFailDueDeliveries(db.orm, { now: clock.now(), limit: 1, perEndpoint: 10 })).toEqual({
      claimed: [],
      failed: 1,
    });
    const claimed = await claimDueDeliveries(db.orm, { now: clock.now(), limit: 10, perEndpoint: 10 });
    expect(claimed.map((d) => d.deliveryId).sort()).toEqual([deliveries[1]!.id, deliveries[2]!.id].sort());
    expect(await row(deliveries[0]!.id)).toMatchObject({ status: "failed", attempts: 0, leased: null });
    // Past every lease: the others are due again (unanswered), the failed one is not.
    const later = new Date(clock.now().getTime() + 3_600_000);
    const again = await claimDueDeliveries(db.orm, { now: later, limit: 10, perEndpoint: 10 });
    expect(again.map((d) => d.deliveryId).sort()).toEqual([deliveries[1]!.id, deliveries[2]!.id].sort());
    expect(await row(deliveries[0]!.id)).toMatchObject({ status: "failed", attempts: 0 });
  });

  it("a page's lease goes once its every attempt is recorded or handed back", async () => {
    const { t } = await endpointWithDeliveries(db, clock, 0);
    await recordTenantEvents(db.orm, t.tenantId, 3, clock.now());
    const now = clock.now();
    const { leased } = await readingFanOut(now, { lease: { limit: 10, perEndpoint: 10, leaseMs: 30_000 } });
    expect(leased).toHaveLength(3);
    const leaseId = leased[0]!.leaseId;
    const leases = () =>
      db.orm.em.fork().getConnection().execute("select id from webhook_leases where id = ?", [leaseId]);
    await recordAttemptOutcomes(db.orm, [answered(leased[0]!, now)], now);
    expect(await leases()).toHaveLength(1);
    await releaseDeliveries(db.orm, [leased[1]!], { now });
    expect(await leases()).toHaveLength(1);
    await recordAttemptOutcomes(db.orm, [answered(leased[2]!, now)], now, [leaseId]);
    expect(await leases()).toEqual([]);
    // Nothing to recover, however late.
    expect(await recoverWebhookLeases(db.orm, new Date(now.getTime() + 3_600_000))).toEqual({
      pages: 0,
      queued: 0,
    });
  });

  it("a delivery's id is a UUIDv7 of its event's time, its own for each endpoint", async () => {
    const { t } = await endpointWithDeliveries(db, clock, 0);
    // A platform-wide endpoint too: each event goes to two endpoints.
    await createWebhookEndpoint(
      testContext(db.orm, clock),
      operator,
      { url: "http://127.0.0.1:9/all" },
      { allowPrivateNetworks: true },
    );
    try {
      await recordTenantEvents(db.orm, t.tenantId, 3, clock.now());
      while ((await fanOutEvents(db.orm, clock.now())) > 0);
      const rows = await db.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string; event_id: string }[]>(
          `select d.id, d.event_id from webhook_deliveries d join events e on e.id = d.event_id
            where e.tenant_id = ? order by d.id`,
          [t.tenantId],
        );
      expect(rows).toHaveLength(6);
      for (const r of rows) {
        // The event's 48 bits of milliseconds ("xxxxxxxx-xxxx"), version 7, the RFC 9562 variant.
        expect(r.id.slice(0, 13)).toBe(r.event_id.slice(0, 13));
        expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      expect(new Set(rows.map((r) => r.id)).size).toBe(6);
    } finally {
      await db.orm.em
        .fork()
        .getConnection()
        .execute("update webhook_endpoints set enabled = false where tenant_id is null");
    }
  });

  it("a fan-out leases at most its limit in all, in feed order, and nothing without a lease", async () => {
    await db.orm.em.fork().getConnection().execute("update webhook_endpoints set enabled = false");
    const t = await tenantFixture(db.orm, clock);
    await createWebhookEndpoint(
      testContext(db.orm, clock),
      t.admin,
      { url: "http://127.0.0.1:9/hooks" },
      { allowPrivateNetworks: true },
    );
    await recordTenantEvents(db.orm, t.tenantId, 5, clock.now());
    const lease = { limit: 2, perEndpoint: 10 };
    const first = await readingFanOut(clock.now(), { limit: 3, lease });
    // One enabled endpoint (counted unless named among those besides which to count); two events
    // left past the cursor.
    expect([first.events, first.queued, first.others, first.backlog]).toEqual([3, 1, true, 2]);
    expect(first.leased.map((d) => JSON.parse(d.body).data.n)).toEqual([0, 1]);
    // The page's third event was queued due; the next page leases from where the cursor stopped.
    const second = await readingFanOut(clock.now(), { lease });
    expect(second.events).toBe(2);
    expect(second.leased.map((d) => JSON.parse(d.body).data.n)).toEqual([3, 4]);
    expect(await fanOutAndLease(db.orm, clock.now(), { lease })).toEqual({
      events: 0,
      leased: [],
      queued: 0,
      others: true,
      backlog: 0,
    });
    await recordTenantEvents(db.orm, t.tenantId, 1, clock.now());
    expect(await readingFanOut(clock.now())).toEqual({
      events: 1,
      leased: [],
      queued: 1,
      others: true,
      backlog: 0,
    });
    const [{ id }] = await db.orm.em
      .fork()
      .getConnection()
      .execute<[{ id: string }]>("select id from webhook_endpoints where enabled");
    expect((await fanOutAndLease(db.orm, clock.now(), { besides: [id] })).others).toBe(false);
  });

  // Two statements at once need two server connections: PGlite runs one at a time.
  it.runIf(backend !== "embedded")(
    "a delivery that another worker claims while this claim is under way is not claimed again",
    async () => {
      const { endpoint } = await endpointWithDeliveries(db, clock, 1);
      // The claim, held between taking its snapshot and locking its rows (the injected wait for
      // an advisory lock that a third session holds is the only difference): another worker's
      // claim commits in between.
      const held = CLAIM_DUE_DELIVERIES.text.replace(
        "where d.endpoint_id = w.id and",
        "where (select true from pg_advisory_xact_lock(7161)) and d.endpoint_id = w.id and",
      );
      expect(held).not.toBe(CLAIM_DUE_DELIVERIES.text);
      const client = new pg.Client({ connectionString: db.directUrl! });
      const holder = new pg.Client({ connectionString: db.directUrl! });
      await client.connect();
      await holder.connect();
      try {
        await holder.query("select pg_advisory_lock(7161)");
        const now = clock.now();
        const { rows: pid } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
        const slow = client.query<{ delivery_id: string }>(held, [
          now,
          10,
          10,
          "{}",
          new Date(now.getTime() + 30_000),
          "{}",
        ]);
        // Until the held claim waits for the lock (its snapshot taken, nothing locked yet).
        for (let waited = 0; waited < 10_000; waited += 20) {
          const { rows } = await holder.query(
            "select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock' and wait_event = 'advisory'",
            [pid[0]!.pid],
          );
          if (rows.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const fast = await claimDueDeliveries(db.orm, { now, limit: 10, perEndpoint: 10 });
        expect(fast.map((d) => d.endpointId)).toEqual([endpoint.id]);
        await holder.query("select pg_advisory_unlock(7161)");
        // (its one row says that it failed none and claimed none)
        expect((await slow).rows).toMatchObject([{ unsendable: 0, delivery_id: null }]);
        expect(await row(fast[0]!.deliveryId)).toMatchObject({ attempts: 1 });
      } finally {
        await client.end();
        await holder.end();
      }
    },
  );

  it("deleting an endpoint takes its deliveries and its delivery log with it, and nothing of another's", async () => {
    const counts = (endpointId: string) => countsOf(db, endpointId);
    const deliverAll = async () => {
      const claimed = await claimDueDeliveries(db.orm, { now: clock.now(), limit: 100, perEndpoint: 100 });
      await recordAttemptOutcomes(
        db.orm,
        claimed.map((d) => answered(d, clock.now())),
        clock.now(),
      );
    };
    const kept = await endpointWithDeliveries(db, clock, 3);
    await deliverAll();
    const gone = await endpointWithDeliveries(db, clock, 5);
    await deliverAll();
    expect(await counts(gone.endpoint.id)).toEqual({ deliveries: 5, attempts: 5 });
    await deleteWebhookEndpoint(testContext(db.orm, clock), gone.t.admin, gone.endpoint.id);
    expect(await counts(gone.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });
    expect(await counts(kept.endpoint.id)).toEqual({ deliveries: 3, attempts: 3 });
  });

  // No foreign key checks a delivery's or a log line's endpoint (Migration20261202030000): the
  // dispatcher's statements lock the endpoints they write for, once per statement, and a deletion
  // takes what they wrote. Each race below is made to happen: the second party is seen waiting
  // for the first one's lock before the first commits.
  // Two workers whose batches fail the same endpoints in opposite orders: each statement locks
  // the endpoint rows it writes in the order of their ids, so neither waits for the other in a
  // cycle (PostgreSQL would abort one, and its batch would go unlogged, its attempts spent).
  it.runIf(backend !== "embedded")(
    "two workers recording failures of the same endpoints in opposite orders both record their batches",
    async () => {
      await db.orm.em.fork().getConnection().execute("update webhook_endpoints set enabled = false");
      const t = await tenantFixture(db.orm, clock);
      const endpoints: string[] = [];
      for (const path of ["a", "b"]) {
        const { endpoint } = await createWebhookEndpoint(
          testContext(db.orm, clock),
          t.admin,
          { url: `http://127.0.0.1:9/${path}` },
          { allowPrivateNetworks: true },
        );
        endpoints.push(endpoint.id);
      }
      const failed = (delivery: DueDelivery, at: Date): AttemptOutcome => ({
        delivery,
        attemptedAt: at,
        durationMs: 1,
        responseStatus: 500,
        error: null,
      });
      const rounds = 30;
      let recorded = 0;
      for (let round = 0; round < rounds; round++) {
        const now = new Date(clock.now().getTime() + round * 3_600_000);
        await recordTenantEvents(db.orm, t.tenantId, 4, now);
        // (Fanned out once the horizon lets the page through: see `readingFanOut`.)
        const claimed: DueDelivery[] = [];
        for (let tries = 1; claimed.length < 8 && tries <= 100; tries++) {
          await fanOutEvents(db.orm, now);
          claimed.push(...(await claimDueDeliveries(db.orm, { now, limit: 100, perEndpoint: 100 })));
          if (claimed.length < 8) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const [a, b] = endpoints.map((e) => claimed.filter((d) => d.endpointId === e));
        // (this round's, and the retries that the last rounds' failures made due by now)
        expect(Math.min(a!.length, b!.length)).toBeGreaterThanOrEqual(4);
        const first = [failed(a![0]!, now), failed(b![0]!, now), ...a!.slice(2).map((d) => failed(d, now))];
        const second = [failed(b![1]!, now), failed(a![1]!, now), ...b!.slice(2).map((d) => failed(d, now))];
        const results = await Promise.allSettled([
          recordAttemptOutcomes(db.orm, first, now),
          recordAttemptOutcomes(db.orm, second, now),
        ]);
        const refused = results.filter((r) => r.status === "rejected");
        expect(refused.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        recorded += first.length + second.length;
      }
      const [logged] = await db.orm.em
        .fork()
        .getConnection()
        .execute<{ n: number }[]>(
          "select count(*)::int as n from webhook_attempts where endpoint_id in (?)",
          [endpoints],
        );
      expect(logged?.n).toBe(recorded);
    },
  );

  describe.runIf(backend !== "embedded")("racing an endpoint's deletion", () => {
    let client: pg.Client;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: db.directUrl! });
      await client.connect();
    });
    afterAll(() => client?.end());

    /** Until a session of this database waits for a row lock (the other party's). */
    const lockWaited = async () => {
      for (let waited = 0; waited < 10_000; waited += 20) {
        const { rows } = await client.query(
          `select 1 from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
        );
        if (rows.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error("nothing waited for the lock");
    };
    const counts = (endpointId: string) => countsOf(db, endpointId);

    it("a fan-out leaves nothing of it, whichever locks the endpoint first", async () => {
      // The deletion first: the fan-out, whose snapshot still sees the endpoint, waits for it
      // and then writes nothing for it.
      const first = await endpointWithDeliveries(db, clock, 0);
      await recordTenantEvents(db.orm, first.t.tenantId, 3, clock.now());
      await client.query("begin");
      await client.query("delete from webhook_endpoints where id = $1", [first.endpoint.id]);
      const fanningOut = fanOutAndLease(db.orm, clock.now());
      await lockWaited();
      await client.query("commit");
      expect((await fanningOut).events).toBeGreaterThan(0);
      expect(await counts(first.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });

      // The fan-out first (its transaction held open): the deletion waits for it and takes
      // what it wrote.
      const second = await endpointWithDeliveries(db, clock, 0);
      await recordTenantEvents(db.orm, second.t.tenantId, 3, clock.now());
      const now = clock.now();
      await client.query("begin");
      const { rows } = await client.query(FAN_OUT.text, [
        100,
        now,
        0,
        "{}",
        "{}",
        new Date(now.getTime() + 30_000),
        0,
        [],
      ]);
      expect(rows[0]).toMatchObject({ events: 3, queued: 3 });
      const deleting = deleteWebhookEndpoint(testContext(db.orm, clock), second.t.admin, second.endpoint.id);
      await lockWaited();
      await client.query("commit");
      await deleting;
      expect(await counts(second.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });
    });

    it("recorded outcomes leave no log line of it, whichever locks the endpoint first", async () => {
      const outcomesOf = (deliveries: DueDelivery[]) =>
        recordedAttemptsParameter(
          deliveries.map((d) => answered(d, clock.now())),
          clock.now(),
        );
      // The deletion first: the outcomes wait for it and log nothing for it.
      const first = await endpointWithDeliveries(db, clock, 2);
      const claimedFirst = await claimDueDeliveries(db.orm, { now: clock.now(), limit: 10, perEndpoint: 10 });
      expect(claimedFirst).toHaveLength(2);
      await client.query("begin");
      await client.query("delete from webhook_endpoints where id = $1", [first.endpoint.id]);
      const recording = recordAttemptOutcomes(
        db.orm,
        claimedFirst.map((d) => answered(d, clock.now())),
        clock.now(),
      );
      await lockWaited();
      await client.query("commit");
      await recording;
      expect(await counts(first.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });

      // The outcomes first (their transaction held open): the deletion waits and takes the log.
      const second = await endpointWithDeliveries(db, clock, 2);
      const claimedSecond = await claimDueDeliveries(db.orm, {
        now: clock.now(),
        limit: 10,
        perEndpoint: 10,
      });
      expect(claimedSecond).toHaveLength(2);
      await client.query("begin");
      await client.query(RECORD_ATTEMPTS.text, [outcomesOf(claimedSecond), clock.now(), []]);
      const deleting = deleteWebhookEndpoint(testContext(db.orm, clock), second.t.admin, second.endpoint.id);
      await lockWaited();
      await client.query("commit");
      await deleting;
      expect(await counts(second.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });
    });

    it("a redelivery leaves nothing of it, whichever locks the endpoint first", async () => {
      // The deletion first: the redelivery waits for it and finds no endpoint (404).
      const first = await endpointWithDeliveries(db, clock, 1);
      const [event] = await claimDueDeliveries(db.orm, { now: clock.now(), limit: 10, perEndpoint: 10 });
      await client.query("begin");
      await client.query("delete from webhook_endpoints where id = $1", [first.endpoint.id]);
      const redelivering = redeliverWebhookEvent(
        testContext(db.orm, clock),
        first.t.admin,
        first.endpoint.id,
        event!.eventId,
      ).catch((error: unknown) => error);
      await lockWaited();
      await client.query("commit");
      expect(await redelivering).toMatchObject({ code: "NOT_FOUND" });
      expect(await counts(first.endpoint.id)).toEqual({ deliveries: 0, attempts: 0 });
    });

    it("a deletion in a transaction that is not READ COMMITTED is refused and changes nothing", async () => {
      const { endpoint } = await endpointWithDeliveries(db, clock, 1);
      await client.query("begin isolation level repeatable read");
      await expect(
        client.query("delete from webhook_endpoints where id = $1", [endpoint.id]),
      ).rejects.toThrow(/READ COMMITTED/);
      await client.query("rollback");
      expect(await counts(endpoint.id)).toEqual({ deliveries: 1, attempts: 0 });
    });
  });

  it("outcomes recorded together with one of an endpoint deleted meanwhile: the others are written, its own are gone with it", async () => {
    const kept = await endpointWithDeliveries(db, clock, 2);
    // Both endpoints enabled again, each with its deliveries, all claimed at once.
    const deleted = await endpointWithDeliveries(db, clock, 2);
    await db.orm.em
      .fork()
      .getConnection()
      .execute("update webhook_endpoints set enabled = true where id = ?", [kept.endpoint.id]);
    const claimed = await claimDueDeliveries(db.orm, { now: clock.now(), limit: 10, perEndpoint: 10 });
    expect(new Set(claimed.map((d) => d.endpointId))).toEqual(
      new Set([kept.endpoint.id, deleted.endpoint.id]),
    );
    await deleteWebhookEndpoint(testContext(db.orm, clock), deleted.t.admin, deleted.endpoint.id);
    const recorded = await recordAttemptOutcomes(
      db.orm,
      claimed.map((d) => answered(d, clock.now())),
      clock.now(),
    );
    expect(recorded).toHaveLength(4);
    const [counts] = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ delivered: number; logged: number; orphans: number }[]>(
        `select (select count(*) from webhook_deliveries where endpoint_id = ? and status = 'succeeded')::int as delivered,
                (select count(*) from webhook_attempts where endpoint_id = ?)::int as logged,
                (select count(*) from webhook_attempts where endpoint_id = ?)::int as orphans`,
        [kept.endpoint.id, kept.endpoint.id, deleted.endpoint.id],
      );
    expect(counts).toEqual({ delivered: 2, logged: 2, orphans: 0 });
  });
});
