import { createServer } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** A connection pool's state at one instant. */
export interface PoolStats {
  /** Connections lent out (in a query or a transaction). */
  readonly used: number;
  /** Open connections waiting to be lent. */
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** The pool's upper bound. */
  readonly max: number;
}

/** Request latency buckets (seconds): a read is a few milliseconds, a slow write a second. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Worker pass buckets (seconds): an idle pass takes milliseconds, a month-end one minutes. */
const PASS_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];
/** Webhook attempt buckets (seconds): a local receiver answers in a millisecond, the timeout is 10 s. */
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * What a webhook attempt came to: `delivered` (a 2xx), `retrying` (failed, another attempt is
 * scheduled), `failed` (failed, the retry schedule is spent: the delivery has failed).
 */
export type WebhookAttemptOutcome = "delivered" | "retrying" | "failed";

/**
 * The process's Prometheus metrics (`GET /metrics`, text format), in a registry of its own so
 * several apps in one test process do not mix. Names are `arcadia_*`, plus prom-client's
 * process metrics (CPU, memory, event-loop lag, `process_*` / `nodejs_*`).
 *
 * Label values stay bounded: routes are the registered patterns (`/api/v1/deployments/:id`),
 * never raw paths; pass and item names come from code.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly requestSeconds: Histogram<"method" | "route" | "status">;
  private readonly passes: Counter<"pass" | "result">;
  private readonly passSeconds: Histogram<"pass" | "result">;
  private readonly items: Counter<"pass" | "item">;
  private readonly webhookAttempts: Counter<"outcome">;
  private readonly webhookAttemptSeconds: Histogram<"outcome">;
  private readonly webhookEndpointsDisabled: Counter;
  private readonly pools = new Map<string, () => PoolStats>();

  constructor(options: { service: string; processMetrics?: boolean }) {
    this.registry.setDefaultLabels({ service: options.service });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({
      name: "arcadia_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: "arcadia_http_request_duration_seconds",
      help: "HTTP request latency from the first byte in to the response, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.passes = new Counter({
      name: "arcadia_worker_passes_total",
      help: "Worker passes run, by pass and result (ok, failed).",
      labelNames: ["pass", "result"],
      registers,
    });
    this.passSeconds = new Histogram({
      name: "arcadia_worker_pass_duration_seconds",
      help: "Worker pass duration, by pass and result.",
      labelNames: ["pass", "result"],
      buckets: PASS_BUCKETS,
      registers,
    });
    this.items = new Counter({
      name: "arcadia_worker_items_total",
      help: "What worker passes did, by pass and item (invoices_issued, transitions, skipped_by_override, …).",
      labelNames: ["pass", "item"],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: "arcadia_webhook_attempts_total",
      help: "Webhook delivery attempts recorded, by outcome (delivered, retrying, failed: retry schedule spent).",
      labelNames: ["outcome"],
      registers,
    });
    this.webhookAttemptSeconds = new Histogram({
      name: "arcadia_webhook_attempt_duration_seconds",
      help: "Webhook attempt duration (request sent to response read, or the failure), by outcome.",
      labelNames: ["outcome"],
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    this.webhookEndpointsDisabled = new Counter({
      name: "arcadia_webhook_endpoints_disabled_total",
      help: "Webhook endpoints disabled after 5 days without a successful delivery.",
      registers,
    });
    const pools = this.pools;
    const poolGauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["pool"],
        registers,
        collect() {
          this.reset();
          for (const [pool, stats] of pools) this.set({ pool }, read(stats()));
        },
      });
    poolGauge("arcadia_db_pool_connections_used", "Database connections lent out.", (s) => s.used);
    poolGauge("arcadia_db_pool_connections_idle", "Open database connections not lent out.", (s) => s.idle);
    poolGauge("arcadia_db_pool_waiting", "Callers waiting for a database connection.", (s) => s.waiting);
    poolGauge("arcadia_db_pool_connections_max", "The database pool's upper bound.", (s) => s.max);
  }

  /** One answered request; `route` is the registered pattern (`*` when no route matched). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  /** One worker pass: its duration and what it did (`items`: item name → count). */
  observePass(
    pass: string,
    result: "ok" | "failed",
    seconds: number,
    items: Record<string, number> = {},
  ): void {
    this.passes.inc({ pass, result });
    this.passSeconds.observe({ pass, result }, seconds);
    for (const [item, count] of Object.entries(items)) this.items.inc({ pass, item }, count);
  }

  /** One recorded webhook attempt. */
  observeWebhookAttempt(outcome: WebhookAttemptOutcome, seconds: number): void {
    this.webhookAttempts.inc({ outcome });
    this.webhookAttemptSeconds.observe({ outcome }, seconds);
  }

  /** An endpoint disabled for want of a success. */
  observeWebhookEndpointDisabled(): void {
    this.webhookEndpointsDisabled.inc();
  }

  /** Reports a connection pool's state at every scrape. */
  watchPool(name: string, stats: () => PoolStats): void {
    this.pools.set(name, stats);
  }

  readonly contentType = this.registry.contentType;

  /** The exposition text of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a port of its own (`METRICS_PORT`), without authentication: for a scrape
 * network that the API's clients cannot reach. The worker, which serves no API, exposes its
 * metrics only this way.
 */
export async function serveMetrics(metrics: Metrics, port: number, host: string): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (request.method === "GET" && request.url?.split("?")[0] === "/metrics") {
      metrics.text().then(
        (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    response.writeHead(404, { "content-type": "application/json" }).end(
      JSON.stringify({
        error: { code: "NOT_FOUND", message: "Only GET /metrics is served here.", details: {} },
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
