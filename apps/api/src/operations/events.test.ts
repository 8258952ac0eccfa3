import { testBackends, waitForFeed } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("the event feed over REST and tRPC on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("serves each change's event with the response's resource as data; the cursor is never null", async () => {
    const empty = await h.request("GET", "/api/v1/events", { token: t.viewer });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [], nextCursor: expect.any(String) });

    const created = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "feed", displayName: "Feed", region: "au-syd" },
    });
    const moved = await h.request("POST", `/api/v1/deployments/${created.body.id}/transition`, {
      token: t.admin,
      body: { to: "paused" },
    });
    await waitForFeed(h.db.orm);
    const page = await h.request("GET", `/api/v1/events?after=${empty.body.nextCursor}`, { token: t.viewer });
    expect(page.body.items.map((e: { type: string }) => e.type)).toEqual([
      "deployment.created",
      "deployment.transitioned",
    ]);
    expect(page.body.items[0]).toEqual({
      id: expect.any(String),
      type: "deployment.created",
      occurredAt: created.body.createdAt,
      tenantId: t.tenantId,
      data: created.body,
    });
    expect(page.body.items[1].data).toEqual(moved.body.deployment);

    const filtered = await h.request("GET", "/api/v1/events?type=deployment.transitioned,resource.released", {
      token: t.viewer,
    });
    expect(filtered.body.items.map((e: { type: string }) => e.type)).toEqual(["deployment.transitioned"]);
    const rest = await h.request("GET", `/api/v1/events/${page.body.items[1].id}`, { token: t.viewer });
    expect(rest.body).toEqual(page.body.items[1]);

    // tRPC answers the same JSON.
    const input = encodeURIComponent(JSON.stringify({ after: empty.body.nextCursor }));
    const trpc = await h.request("GET", `/trpc/events.list?input=${input}`, { token: t.viewer });
    expect(trpc.body.result.data).toEqual(page.body);
  });

  it("refuses unknown types and foreign cursors with 400, and another tenant's event with 404", async () => {
    const unknown = await h.request("GET", "/api/v1/events?type=deployment.exploded", { token: t.viewer });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("VALIDATION_FAILED");
    const badCursor = await h.request("GET", "/api/v1/events?after=bm90LWEtY3Vyc29y", { token: t.viewer });
    expect(badCursor.status).toBe(400);
    const other = await h.tenant();
    await waitForFeed(h.db.orm);
    const mine = await h.request("GET", "/api/v1/events", { token: t.viewer });
    const theirs = await h.request("GET", `/api/v1/events/${mine.body.items[0].id}`, { token: other.admin });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe("NOT_FOUND");
  });

  it("a platform-wide endpoint disabled by hand: a platform event (tenantId null) for operators, 404 to every tenant", async () => {
    const other = await h.tenant();
    const endpoint = await h.request("POST", "/api/v1/webhook-endpoints", {
      body: { url: "https://hooks.example.com/platform" },
    });
    expect(endpoint.body.tenantId).toBeNull();
    const disabled = await h.request("PATCH", `/api/v1/webhook-endpoints/${endpoint.body.id}`, {
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    await waitForFeed(h.db.orm);
    const feed = await h.request("GET", "/api/v1/events?type=webhook_endpoint.disabled&limit=200");
    const event = feed.body.items.find((e: { data: { id: string } }) => e.data.id === endpoint.body.id);
    expect(event).toEqual({
      id: expect.any(String),
      type: "webhook_endpoint.disabled",
      occurredAt: disabled.body.disabledAt,
      tenantId: null,
      data: disabled.body,
    });
    expect((await h.request("GET", `/api/v1/events/${event.id}`)).body).toEqual(event);
    const input = encodeURIComponent(JSON.stringify({ id: event.id }));
    expect((await h.request("GET", `/trpc/events.get?input=${input}`)).body.result.data).toEqual(event);
    for (const token of [t.admin, t.viewer, other.admin]) {
      const byId = await h.request("GET", `/api/v1/events/${event.id}`, { token });
      expect([byId.status, byId.body.error?.code]).toEqual([404, "NOT_FOUND"]);
      const viaTrpc = await h.request("GET", `/trpc/events.get?input=${input}`, { token });
      expect(viaTrpc.body.error.data.code).toBe("NOT_FOUND");
      const list = await h.request("GET", "/api/v1/events?limit=200", { token });
      expect(list.body.items.map((e: { id: string }) => e.id)).not.toContain(event.id);
    }
    // The published contract says so.
    const openapi = await h.request("GET", "/api/v1/openapi.json");
    expect(JSON.stringify(openapi.body.components.schemas.Event.properties.tenantId)).toContain('"null"');
  });
});
