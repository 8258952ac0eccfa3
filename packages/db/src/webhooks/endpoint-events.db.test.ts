import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, listEvents } from "../events/feed.ts";
import { presentWebhookEndpoint } from "../presenters/presenters.ts";
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
  waitForFanOut,
  waitForFeed,
} from "../testing/index.ts";
import { fanOutEvents } from "./dispatch.ts";
import { createWebhookEndpoint, updateWebhookEndpoint } from "./endpoints.ts";

const allowPrivate = { allowPrivateNetworks: true };

describe.each(testBackends({ pooled: true }))("webhook_endpoint.disabled on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T10:00:00.000Z"));
  let t: TenantFixture;
  let other: TenantFixture;
  const ctx = () => testContext(db.orm, clock);
  let after: string | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    t = await tenantFixture(db.orm, clock);
    other = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  /** Events the operator's feed has served so far (it serves every event of the database). */
  let served = 0;
  /**
   * Every event an operator's feed gained since the last call (tenants' and platform events): read
   * until the feed has served as many as the table holds. One read after `waitForFeed` is not
   * always enough: a read's horizon counts a transaction of another database (another suite's)
   * that ended between its snapshot and its look at `pg_stat_activity` as one of ours, and holds
   * back what came after it until the next read (CI at 34b05b0, on the pooled backend).
   */
  async function newEvents() {
    await waitForFeed(db.orm);
    const [{ total }] = await db.orm.em
      .fork()
      .getConnection()
      .execute<[{ total: number }]>("select count(*)::int as total from events");
    const items: Awaited<ReturnType<typeof listEvents>>["items"] = [];
    const deadline = Date.now() + 30_000;
    do {
      const page = await listEvents(ctx(), operator, { after, limit: 200 });
      after = page.nextCursor;
      items.push(...page.items);
      served += page.items.length;
      if (served < total) await new Promise((resolve) => setTimeout(resolve, 25));
    } while (served < total && Date.now() < deadline);
    return items;
  }
  const endpoint = (principal = t.admin, path = "x") =>
    createWebhookEndpoint(ctx(), principal, { url: `https://hooks.example.com/${path}` }, allowPrivate);
  /** The endpoints a delivery of the event was queued for. */
  async function queuedFor(eventId: string): Promise<string[]> {
    await waitForFanOut(db.orm);
    await fanOutEvents(db.orm, clock.now());
    const rows = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ endpoint_id: string }[]>("select endpoint_id from webhook_deliveries where event_id = ?", [
        eventId,
      ]);
    return rows.map((r) => r.endpoint_id).sort();
  }

  it("disabling a tenant's endpoint by hand records its event; enabling, editing or disabling again records none", async () => {
    const { endpoint: e } = await endpoint();
    await newEvents();
    clock.advance(1000);
    const disabled = await updateWebhookEndpoint(ctx(), t.admin, e.id, { enabled: false }, allowPrivate);
    const events = await newEvents();
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: "webhook_endpoint.disabled",
        tenantId: t.tenantId,
        occurredAt: clock.now(),
        data: presentWebhookEndpoint(disabled),
      },
    ]);
    expect(events[0]!.data).toMatchObject({ enabled: false, disabledAt: clock.now().toISOString() });
    expect(JSON.stringify(events[0]!.data)).not.toContain("whsec_");
    await updateWebhookEndpoint(
      ctx(),
      t.admin,
      e.id,
      { enabled: false, description: "still off" },
      allowPrivate,
    );
    await updateWebhookEndpoint(ctx(), t.admin, e.id, { enabled: true }, allowPrivate);
    await updateWebhookEndpoint(ctx(), t.admin, e.id, { description: "on" }, allowPrivate);
    expect(await newEvents()).toEqual([]);
    // A refused disabling (a viewer; another tenant's admin) changes nothing and records nothing.
    expect(await codeOf(updateWebhookEndpoint(ctx(), t.viewer, e.id, { enabled: false }, allowPrivate))).toBe(
      "FORBIDDEN",
    );
    expect(
      await codeOf(updateWebhookEndpoint(ctx(), other.admin, e.id, { enabled: false }, allowPrivate)),
    ).toBe("NOT_FOUND");
    expect(await newEvents()).toEqual([]);
  });

  it("disabling a platform-wide endpoint records a platform event: operators see it, the other platform-wide endpoints get it, no tenant does", async () => {
    const mine = await endpoint(t.admin, "tenant");
    const theirs = await endpoint(other.admin, "other");
    const platform = await endpoint(operator, "platform");
    const watcher = await endpoint(operator, "watcher");
    const off = await createWebhookEndpoint(
      ctx(),
      operator,
      { url: "https://hooks.example.com/off" },
      allowPrivate,
    );
    await updateWebhookEndpoint(ctx(), operator, off.endpoint.id, { enabled: false }, allowPrivate);
    await newEvents();
    clock.advance(1000);
    const disabled = await updateWebhookEndpoint(
      ctx(),
      operator,
      platform.endpoint.id,
      { enabled: false },
      allowPrivate,
    );
    const events = await newEvents();
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: "webhook_endpoint.disabled",
        tenantId: null,
        occurredAt: clock.now(),
        data: presentWebhookEndpoint(disabled),
      },
    ]);
    const event = events[0]!;
    expect(await getEvent(ctx(), operator, event.id)).toEqual(event);
    for (const principal of [t.admin, t.viewer, other.admin]) {
      expect(await codeOf(getEvent(ctx(), principal, event.id))).toBe("NOT_FOUND");
      const feed = await listEvents(ctx(), principal, { limit: 200 });
      expect(feed.items.map((e) => e.id)).not.toContain(event.id);
    }
    // Fan-out: the enabled platform-wide endpoints only (not the one disabled, nor tenants').
    const queued = await queuedFor(event.id);
    expect(queued).toContain(watcher.endpoint.id);
    expect(queued).not.toContain(platform.endpoint.id);
    expect(queued).not.toContain(off.endpoint.id);
    expect(queued).not.toContain(mine.endpoint.id);
    expect(queued).not.toContain(theirs.endpoint.id);
    // A tenant's event still goes to that tenant's endpoints and the platform-wide ones.
    const tenantDisabled = await updateWebhookEndpoint(
      ctx(),
      t.admin,
      mine.endpoint.id,
      { enabled: false },
      allowPrivate,
    );
    const [tenantEvent] = await newEvents();
    expect(tenantEvent).toMatchObject({ tenantId: t.tenantId, data: presentWebhookEndpoint(tenantDisabled) });
    const tenantQueued = await queuedFor(tenantEvent!.id);
    expect(tenantQueued).toContain(watcher.endpoint.id);
    expect(tenantQueued).not.toContain(theirs.endpoint.id);
  });
});
