import { testBackends, waitForFeed } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("webhook endpoints over REST on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let other: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    other = await h.tenant();
  });
  afterAll(() => h?.close());

  const count = async (token: string) =>
    (await h.request("GET", "/api/v1/webhook-endpoints?limit=200", { token })).body.items.length;

  it("shows the secret once at creation and once at rotation, never in any other answer", async () => {
    const created = await h.request("POST", "/api/v1/webhook-endpoints", {
      token: t.admin,
      body: {
        url: "https://hooks.example.com/arcadia",
        eventTypes: ["invoice.issued"],
        description: "finance",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      tenantId: t.tenantId,
      url: "https://hooks.example.com/arcadia",
      eventTypes: ["invoice.issued"],
      description: "finance",
      enabled: true,
      previousSecretExpiresAt: null,
    });
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), "base64").length).toBeGreaterThanOrEqual(24);
    const id = created.body.id;

    const answers = [
      await h.request("GET", `/api/v1/webhook-endpoints/${id}`, { token: t.viewer }),
      await h.request("GET", "/api/v1/webhook-endpoints", { token: t.viewer }),
      await h.request("PATCH", `/api/v1/webhook-endpoints/${id}`, {
        token: t.admin,
        body: { enabled: false },
      }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain("whsec_");
      expect(JSON.stringify(answer.body)).not.toContain(secret.slice(6, 20));
    }
    expect(answers[2]!.body).toMatchObject({ enabled: false, disabledAt: expect.any(String) });
    const enabled = await h.request("PATCH", `/api/v1/webhook-endpoints/${id}`, {
      token: t.admin,
      body: { enabled: true, eventTypes: ["invoice.issued", "invoice.paid"] },
    });
    expect(enabled.body).toMatchObject({
      enabled: true,
      disabledAt: null,
      eventTypes: ["invoice.issued", "invoice.paid"],
    });

    const rotated = await h.request("POST", `/api/v1/webhook-endpoints/${id}/rotate-secret`, {
      token: t.admin,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    expect(rotated.body.previousSecretExpiresAt).toEqual(expect.any(String));

    const log = await h.request("GET", `/api/v1/webhook-endpoints/${id}/deliveries`, { token: t.viewer });
    expect(log.body).toEqual({ items: [], nextCursor: null });

    const dep = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "hooked", displayName: "Hooked", region: "au-syd" },
    });
    expect(dep.status).toBe(201);
    await waitForFeed(h.db.orm);
    const event = (await h.request("GET", "/api/v1/events?type=deployment.created", { token: t.viewer })).body
      .items[0];
    const redeliver = await h.request(
      "POST",
      `/api/v1/webhook-endpoints/${id}/deliveries/${event.id}/redeliver`,
      { token: t.admin },
    );
    expect(redeliver.status).toBe(202);
    expect(redeliver.body).toMatchObject({ endpointId: id, eventId: event.id, status: "pending" });
    // Another tenant's event cannot be sent to this endpoint.
    await h.request("POST", "/api/v1/deployments", {
      token: other.admin,
      body: { slug: "theirs", displayName: "Theirs", region: "au-syd" },
    });
    await waitForFeed(h.db.orm);
    const theirs = (await h.request("GET", "/api/v1/events", { token: other.viewer })).body.items[0];
    const refused = await h.request(
      "POST",
      `/api/v1/webhook-endpoints/${id}/deliveries/${theirs.id}/redeliver`,
      { token: t.admin },
    );
    expect(refused.status).toBe(404);

    // tRPC: the same operations.
    const input = encodeURIComponent(JSON.stringify({ id }));
    const viaTrpc = await h.request("GET", `/trpc/webhooks.get?input=${input}`, { token: t.viewer });
    expect(viaTrpc.body.result.data.id).toBe(id);

    const deleted = await h.request("DELETE", `/api/v1/webhook-endpoints/${id}`, { token: t.admin });
    expect(deleted.status).toBe(200);
    expect((await h.request("GET", `/api/v1/webhook-endpoints/${id}`, { token: t.admin })).status).toBe(404);
  });

  it("refuses unsafe and malformed URLs, unknown event types, viewers and other tenants, changing nothing", async () => {
    const before = await count(t.admin);
    const unsafe = [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://172.20.0.1/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/x",
      "https://[fd00:ec2::254]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://0x7f.1/x",
      "https://localhost/x",
      "https://metadata.google.internal/x",
    ];
    for (const url of unsafe) {
      const r = await h.request("POST", "/api/v1/webhook-endpoints", { token: t.admin, body: { url } });
      expect([url, r.status, r.body.error?.code]).toEqual([url, 422, "UNSAFE_URL"]);
    }
    for (const url of ["not a url", "ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x", ""]) {
      const r = await h.request("POST", "/api/v1/webhook-endpoints", { token: t.admin, body: { url } });
      expect([url, r.status, r.body.error?.code]).toEqual([url, 400, "VALIDATION_FAILED"]);
    }
    const unknownType = await h.request("POST", "/api/v1/webhook-endpoints", {
      token: t.admin,
      body: { url: "https://hooks.example.com/x", eventTypes: ["deployment.exploded"] },
    });
    expect(unknownType.status).toBe(400);
    const viewer = await h.request("POST", "/api/v1/webhook-endpoints", {
      token: t.viewer,
      body: { url: "https://hooks.example.com/x" },
    });
    expect(viewer.status).toBe(403);
    expect(await count(t.admin)).toBe(before);

    const mine = await h.request("POST", "/api/v1/webhook-endpoints", {
      token: t.admin,
      body: { url: "https://hooks.example.com/mine" },
    });
    const id = mine.body.id;
    for (const [method, path, body] of [
      ["GET", `/api/v1/webhook-endpoints/${id}`, undefined],
      ["PATCH", `/api/v1/webhook-endpoints/${id}`, { description: "x" }],
      ["DELETE", `/api/v1/webhook-endpoints/${id}`, undefined],
      ["POST", `/api/v1/webhook-endpoints/${id}/rotate-secret`, undefined],
      ["GET", `/api/v1/webhook-endpoints/${id}/deliveries`, undefined],
    ] as const) {
      const r = await h.request(method, path, { token: other.admin, body });
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    const patchUnsafe = await h.request("PATCH", `/api/v1/webhook-endpoints/${id}`, {
      token: t.admin,
      body: { url: "https://127.0.0.1/x" },
    });
    expect(patchUnsafe.status).toBe(422);
    const viewerPatch = await h.request("PATCH", `/api/v1/webhook-endpoints/${id}`, {
      token: t.viewer,
      body: { enabled: false },
    });
    expect(viewerPatch.status).toBe(403);
    const still = await h.request("GET", `/api/v1/webhook-endpoints/${id}`, { token: t.admin });
    expect(still.body).toEqual({ ...mine.body, secret: undefined, updatedAt: mine.body.updatedAt });
    // Platform-wide endpoints belong to operators only.
    const platform = await h.request("POST", "/api/v1/webhook-endpoints", {
      body: { url: "https://hooks.example.com/all" },
    });
    expect(platform.body.tenantId).toBeNull();
    expect(
      (await h.request("GET", `/api/v1/webhook-endpoints/${platform.body.id}`, { token: t.admin })).status,
    ).toBe(404);
  });
});
