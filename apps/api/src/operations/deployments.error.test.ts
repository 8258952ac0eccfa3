import { connect } from "node:net";
import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../app.ts";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("bad input over REST on %s (error paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let deploymentId: string;
  const deploymentCount = async () =>
    (await h.request("GET", `/api/v1/deployments?limit=200&tenantId=${t.tenantId}`)).body.items.length;

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    deploymentId = await h.deployment(t.admin, "base", "Base");
  });
  afterAll(() => h?.close());

  function expectError(
    r: { status: number; body: { error?: { code: string; message: string } } },
    status: number,
    code: string,
  ) {
    expect(r.status).toBe(status);
    expect(r.body.error?.code).toBe(code);
    expect(typeof r.body.error?.message).toBe("string");
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|node_modules|select |insert into|stack/i);
  }

  it("names the failing fields, rejects unknown fields, and creates nothing", async () => {
    const before = await deploymentCount();
    const missing = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { displayName: "x" },
    });
    expectError(missing, 400, "VALIDATION_FAILED");
    expect(Object.keys(missing.body.error.details.fields)).toEqual(
      expect.arrayContaining(["slug", "region"]),
    );
    const unknown = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "ok-slug", displayName: "x", region: "au-syd", color: "red" },
    });
    expectError(unknown, 400, "VALIDATION_FAILED");
    expect(unknown.body.error.details.fields).toEqual({ color: "unknown field" });
    const badSlug = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "Bad_Slug", displayName: "x", region: "au-syd" },
    });
    expectError(badSlug, 400, "VALIDATION_FAILED");
    expect(Object.keys(badSlug.body.error.details.fields)).toEqual(["slug"]);
    const badRegion = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "ok-slug", displayName: "x", region: "moon-1" },
    });
    expectError(badRegion, 400, "VALIDATION_FAILED");
    const wrongType = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: 42, displayName: ["x"], region: "au-syd", trial: "yes" },
    });
    expectError(wrongType, 400, "VALIDATION_FAILED");
    expect(Object.keys(wrongType.body.error.details.fields).sort()).toEqual(["displayName", "slug", "trial"]);
    expect(await deploymentCount()).toBe(before);
  });

  it("rejects NUL characters, which PostgreSQL cannot store, in bodies and paths", async () => {
    const body = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      body: { slug: "nul", displayName: "a\u0000b", region: "au-syd" },
    });
    expectError(body, 400, "VALIDATION_FAILED");
    expect(body.body.error.details.fields).toEqual({ displayName: "must not contain NUL characters" });
    expectError(await h.request("GET", "/api/v1/plans/%00", { token: t.admin }), 400, "VALIDATION_FAILED");
  });

  it("rejects malformed JSON, non-object bodies and path fields in the body", async () => {
    expectError(
      await h.request("POST", "/api/v1/deployments", {
        token: t.admin,
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await h.request("POST", "/api/v1/deployments", { token: t.admin, body: [1, 2] }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await h.request("POST", `/api/v1/deployments/${deploymentId}/transition`, {
        token: t.admin,
        body: { id: "other", to: "paused" },
      }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("answers 413 PAYLOAD_TOO_LARGE above 1 MiB", async () => {
    const huge = JSON.stringify({ slug: "big", displayName: "x".repeat(MAX_BODY_BYTES), region: "au-syd" });
    // The server stops reading at the limit and closes that connection, so the client must not reuse it.
    const r = await h.request("POST", "/api/v1/deployments", {
      token: t.admin,
      rawBody: huge,
      headers: { "content-type": "application/json", connection: "close" },
    });
    expectError(r, 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers 413 to a chunked body that grows past 1 MiB, without a Content-Length to go by", async () => {
    const { port } = new URL(h.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(
          `POST /api/v1/deployments HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${t.admin}\r\n` +
            "content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        );
        const chunk = "x".repeat(64 * 1024);
        for (let i = 0; i < 20; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write("0\r\n\r\n");
      });
      let received = "";
      socket.on("data", (data) => {
        received += data.toString();
      });
      socket.on("close", () => resolve(received));
      socket.on("error", (error) => (received ? resolve(received) : reject(error)));
    });
    const [head, body] = raw.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(body!).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers an oversized request line with 400 VALIDATION_FAILED in the error shape", async () => {
    const r = await h.request("GET", `/api/v1/deployments?cursor=${"x".repeat(20_000)}`, {
      token: t.admin,
      headers: { connection: "close" },
    });
    expectError(r, 400, "VALIDATION_FAILED");
    expect(r.body.error.details).toEqual({ fields: { headers: "too large" } });
  });

  it("answers a request that is not HTTP with 400 VALIDATION_FAILED in the error shape", async () => {
    const { port } = new URL(h.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write("GET / HTTP/1.1\r\nbad header\r\n\r\n"),
      );
      let received = "";
      socket.on("data", (chunk) => {
        received += chunk.toString();
      });
      socket.on("end", () => resolve(received));
      socket.on("error", reject);
    });
    const [head, body] = raw.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body!).error.code).toBe("VALIDATION_FAILED");
  });

  it("reports lifecycle refusals with their codes and leaves the deployment as it was", async () => {
    const invalid = await h.request("POST", `/api/v1/deployments/${deploymentId}/transition`, {
      token: t.admin,
      body: { to: "archived" },
    });
    expectError(invalid, 422, "INVALID_TRANSITION");
    expect(invalid.body.error.details).toEqual({ from: "active", to: "archived" });
    const notAllowed = await h.request("POST", `/api/v1/deployments/${deploymentId}/transition`, {
      token: t.admin,
      body: { to: "past_due" },
    });
    expectError(notAllowed, 403, "TRANSITION_NOT_ALLOWED");
    const unknownState = await h.request("POST", `/api/v1/deployments/${deploymentId}/transition`, {
      token: t.admin,
      body: { to: "deleted" },
    });
    expectError(unknownState, 400, "VALIDATION_FAILED");
    const longReason = await h.request("POST", `/api/v1/deployments/${deploymentId}/transition`, {
      token: t.admin,
      body: { to: "paused", reason: "r".repeat(501) },
    });
    expectError(longReason, 400, "VALIDATION_FAILED");
    const doc = await h.request("GET", `/api/v1/deployments/${deploymentId}`, { token: t.admin });
    expect(doc.body.deployment.state).toBe("active");
    expect(doc.body.events).toHaveLength(1);
  });

  it("maps subscription conflicts and catalog misses to their codes", async () => {
    expectError(
      await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
        token: t.admin,
        body: { planCode: "gold" },
      }),
      422,
      "UNKNOWN_PLAN",
    );
    expectError(
      await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
        token: t.admin,
        body: { planCode: "studio", addons: [{ code: "nope" }] },
      }),
      422,
      "UNKNOWN_ADDON",
    );
    expect(
      (
        await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
          token: t.admin,
          body: { planCode: "studio" },
        })
      ).status,
    ).toBe(201);
    expectError(
      await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
        token: t.admin,
        body: { planCode: "studio" },
      }),
      409,
      "ALREADY_SUBSCRIBED",
    );
    expectError(
      await h.request("POST", "/api/v1/deployments", {
        token: t.admin,
        body: { slug: "base", displayName: "Again", region: "au-syd" },
      }),
      409,
      "SLUG_TAKEN",
    );
    const usd = await h.request("POST", "/api/v1/addons", {
      body: {
        code: "usd_thing",
        name: "USD",
        resourceKind: "storage",
        qty: "1",
        priceCents: 100,
        currency: "USD",
      },
    });
    expect(usd.status).toBe(201);
    expectError(
      await h.request("POST", `/api/v1/deployments/${deploymentId}/subscription/addons`, {
        token: t.admin,
        body: { code: "usd_thing" },
      }),
      422,
      "CURRENCY_MISMATCH",
    );
    const cancelled = (
      await h.request("POST", "/api/v1/deployments", {
        token: t.admin,
        body: { slug: "gone", displayName: "Gone", region: "au-syd" },
      })
    ).body.id;
    await h.request("POST", `/api/v1/deployments/${cancelled}/transition`, {
      token: t.admin,
      body: { to: "cancelled" },
    });
    expectError(
      await h.request("POST", `/api/v1/deployments/${cancelled}/subscribe`, {
        token: t.admin,
        body: { planCode: "studio" },
      }),
      422,
      "DEPLOYMENT_NOT_SUBSCRIBABLE",
    );
  });

  it("answers unknown routes, ids and bad cursors cleanly", async () => {
    expectError(await h.request("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND");
    expectError(await h.request("GET", "/api/v1/deployments/not-a-uuid"), 404, "NOT_FOUND");
    expectError(
      await h.request("GET", "/api/v1/invoices/00000000-0000-4000-8000-000000000000"),
      404,
      "NOT_FOUND",
    );
    expectError(await h.request("GET", "/api/v1/deployments?cursor=%%%"), 400, "VALIDATION_FAILED");
    expectError(await h.request("GET", "/api/v1/deployments?limit=0"), 400, "VALIDATION_FAILED");
    expectError(await h.request("GET", "/api/v1/deployments?limit=201"), 400, "VALIDATION_FAILED");
    expectError(await h.request("GET", "/api/v1/deployments?bogus=1"), 400, "VALIDATION_FAILED");
  });
});
