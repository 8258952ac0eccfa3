import { Agent, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { seedSubscriptions } from "@arcadia/db/testing";
import { createLogger, Metrics, serveMetrics } from "@arcadia/runtime";
import { runPass } from "@arcadia/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApp } from "./app.ts";
import { KEEP_ALIVE_TIMEOUT_MS, listen, serverTimeouts } from "./listen.ts";
import { type Harness, startHarness, type TenantTokens } from "./testing/harness.ts";

/** The value of one sample line (`name{labels} value`) whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return null;
}

describe("GET /metrics", () => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness("embedded");
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  const scrape = async () => {
    const r = await h.request<string>("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain");
    return r.body;
  };

  it("is for platform admins only, like the API", async () => {
    expect((await h.request("GET", "/metrics", { token: null })).status).toBe(401);
    expect((await h.request("GET", "/metrics", { token: t.admin })).body.error.code).toBe("FORBIDDEN");
    expect((await h.request("GET", "/metrics", { token: t.admin })).status).toBe(403);
  });

  it("counts requests and their latency by route pattern and status, never by raw path", async () => {
    const id = await h.deployment(t.admin, `m-${Date.now().toString(36)}`);
    const before = await scrape();
    const route = { method: "GET", route: "/api/v1/deployments/:id", status: "200" };
    const countBefore = sample(before, "arcadia_http_requests_total", route) ?? 0;
    for (let i = 0; i < 3; i++)
      expect((await h.request("GET", `/api/v1/deployments/${id}`, { token: t.viewer })).status).toBe(200);
    expect(
      (
        await h.request("GET", "/api/v1/deployments/00000000-0000-7000-8000-000000000000", {
          token: t.viewer,
        })
      ).status,
    ).toBe(404);
    const after = await scrape();
    expect(sample(after, "arcadia_http_requests_total", route)).toBe(countBefore + 3);
    expect(sample(after, "arcadia_http_requests_total", { ...route, status: "404" })).toBe(1);
    expect(sample(after, "arcadia_http_request_duration_seconds_count", route)).toBe(countBefore + 3);
    expect(sample(after, "arcadia_http_request_duration_seconds_bucket", { ...route, le: "+Inf" })).toBe(
      countBefore + 3,
    );
    expect(after).not.toContain(id);
    // An unknown path is one series, whatever the path.
    await h.request("GET", `/no/such/${id}`);
    expect(
      sample(await scrape(), "arcadia_http_requests_total", { route: "(unmatched)", status: "404" }),
    ).toBeGreaterThan(0);
  });

  it("reports the database pool", async () => {
    const text = await scrape();
    expect(sample(text, "arcadia_db_pool_connections_max", {})).toBeNull(); // the harness watches no pool
    const metrics = new Metrics({ service: "api", processMetrics: false });
    metrics.watchPool("main", () => ({ used: 2, idle: 3, waiting: 1, max: 10 }));
    const own = await metrics.text();
    expect(sample(own, "arcadia_db_pool_connections_used", { pool: "main" })).toBe(2);
    expect(sample(own, "arcadia_db_pool_connections_idle", { pool: "main" })).toBe(3);
    expect(sample(own, "arcadia_db_pool_waiting", { pool: "main" })).toBe(1);
    expect(sample(own, "arcadia_db_pool_connections_max", { pool: "main" })).toBe(10);
  });

  it("records worker passes: duration, count, and what they did", async () => {
    await seedSubscriptions(h.db.orm, { count: 3, createdAt: new Date("2026-08-15T00:00:00Z") });
    const metrics = new Metrics({ service: "worker", processMetrics: false });
    const summary = await runPass(h.db.orm, createLogger("silent"), {
      now: new Date("2026-10-01T00:00:00Z"),
      metrics,
    });
    const text = await metrics.text();
    expect(summary.invoicesIssued).toBe(6);
    expect(sample(text, "arcadia_worker_items_total", { pass: "rollover", item: "invoices_issued" })).toBe(6);
    expect(sample(text, "arcadia_worker_items_total", { pass: "rollover", item: "transitions" })).toBe(
      summary.trialsConverted,
    );
    expect(
      sample(text, "arcadia_worker_items_total", { pass: "rollover", item: "skipped_by_override" }),
    ).toBe(0);
    expect(sample(text, "arcadia_worker_passes_total", { pass: "rollover", result: "ok" })).toBe(1);
    expect(
      sample(text, "arcadia_worker_pass_duration_seconds_count", { pass: "rollover", result: "ok" }),
    ).toBe(1);
  });

  it("on a port of its own (METRICS_PORT): served there without a token, and not on the API", async () => {
    const metrics = new Metrics({ service: "api", processMetrics: false });
    const app = newApp(
      { orm: h.db.orm, now: () => new Date(), regions: ["au-syd"], logger: createLogger("silent"), metrics },
      { metricsRoute: false },
    );
    const api = await listen(app, 0, "127.0.0.1");
    const separate = await serveMetrics(metrics, 0, "127.0.0.1");
    try {
      const onApi = await fetch(`http://127.0.0.1:${api.port}/metrics`, {
        headers: { authorization: `Bearer ${h.adminToken}` },
      });
      expect(onApi.status).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${separate.port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(
        sample(await scraped.text(), "arcadia_http_requests_total", { route: "(unmatched)", status: "404" }),
      ).toBe(1);
      expect((await fetch(`http://127.0.0.1:${separate.port}/other`)).status).toBe(404);
    } finally {
      await separate.close();
      await new Promise((resolve) => {
        api.server.close(resolve);
        api.server.closeAllConnections();
      });
    }
  });
});

describe("HTTP server timeouts", () => {
  it("keep idle connections longer than a 60 s load balancer does, and wait for headers longer still", async () => {
    const app = { fetch: () => new Response("ok") };
    const { server } = await listen(app, 0, "127.0.0.1");
    try {
      expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
      expect(server.keepAliveTimeout).toBeGreaterThan(60_000);
      expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
      expect(server.requestTimeout).toBeGreaterThanOrEqual(server.headersTimeout);
    } finally {
      server.close();
    }
    expect(serverTimeouts(120_000)).toEqual({
      keepAliveTimeout: 120_000,
      headersTimeout: 121_000,
      requestTimeout: 300_000,
    });
  });

  // The same rule at a scale a test can wait for: a client that reuses its connection after an
  // idle spell shorter than the server's keep-alive finds it open (the same socket, no reset).
  it("a client reusing a connection after idling finds it open", async () => {
    const app = { fetch: () => new Response("ok") };
    const { server, port } = await listen(app, 0, "127.0.0.1", { keepAliveTimeoutMs: 3000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; localPort: number; keepAlive: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
          let body = "";
          res.on("data", (chunk) => {
            body += chunk;
          });
          res.on("end", () =>
            resolve({
              body,
              localPort: (req.socket!.address() as AddressInfo).port,
              keepAlive: String(res.headers["keep-alive"]),
            }),
          );
        });
        req.on("error", reject);
        req.end();
      });
    try {
      const first = await get();
      expect(first.keepAlive).toBe("timeout=3");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const second = await get();
      expect(second.body).toBe("ok");
      expect(second.localPort).toBe(first.localPort);
    } finally {
      agent.destroy();
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    }
  });
});
