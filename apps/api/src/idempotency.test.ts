import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "./testing/harness.ts";

describe.each(testBackends({ pooled: true }))("Idempotency-Key on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  const create = (key: string, slug: string, token = t.admin) =>
    h.request("POST", "/api/v1/deployments", {
      token,
      body: { slug, displayName: slug, region: "au-syd" },
      headers: { "idempotency-key": key },
    });

  it("replays the first response without doing the work again", async () => {
    const first = await create("key-1", "idem-one");
    const second = await create("key-1", "idem-one");
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    const list = await h.request("GET", "/api/v1/deployments?limit=200", { token: t.admin });
    expect(list.body.items.filter((d: { slug: string }) => d.slug === "idem-one")).toHaveLength(1);
  });

  it("refuses the same key with a different body", async () => {
    await create("key-2", "idem-two");
    const reused = await create("key-2", "idem-three");
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const list = await h.request("GET", "/api/v1/deployments?limit=200", { token: t.admin });
    expect(list.body.items.some((d: { slug: string }) => d.slug === "idem-three")).toBe(false);
  });

  it("gives concurrent duplicates a single effect and the same answer", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => create("key-3", "idem-race")));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const list = await h.request("GET", "/api/v1/deployments?limit=200", { token: t.admin });
    expect(list.body.items.filter((d: { slug: string }) => d.slug === "idem-race")).toHaveLength(1);
  });

  it("keeps keys per principal, and does not store rejections", async () => {
    const other = await h.tenant();
    expect((await create("shared-key", "idem-a")).status).toBe(201);
    expect((await create("shared-key", "idem-a", other.admin)).status).toBe(201);
    const refused = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "idem-a", displayName: "x", region: "au-syd" },
      headers: { "idempotency-key": "key-4" },
    });
    expect(refused.status).toBe(409);
    const transition = (key: string) =>
      h.request("POST", "/api/v1/deployments", {
        token: t.admin,
        body: { slug: "idem-b", displayName: "x", region: "au-syd" },
        headers: { "idempotency-key": key },
      });
    expect((await transition("key-5")).status).toBe(201);
    expect(
      (
        await h.request("POST", "/api/v1/deployments", {
          token: t.admin,
          body: {},
          headers: { "idempotency-key": " bad key " },
        })
      ).status,
    ).toBe(400);
  });
});
