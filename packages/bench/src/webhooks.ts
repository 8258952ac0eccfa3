// The webhook benchmark: (1) deliveries/s to one local receiver, the worker's path next to a bare
// loop reading the same outbox rows, signing and POSTing with keep-alive at the same concurrency;
// (2) commit-to-delivery latency while the API takes 200 writes/s. Each side runs in a process of
// its own; the receiver runs here.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  connect,
  createWebhookEndpoint,
  ensureBootstrapToken,
  migrateAndSeed,
  newId,
  type Orm,
  recordEvents,
  useCaseContext,
} from "@arcadia/db";
import { operator, seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { WORKER_NODE_FLAGS } from "@arcadia/worker";
import { processCpu } from "./machine.ts";
import { freshDatabase } from "./measured-run.ts";

const here = fileURLToPath(new URL("..", import.meta.url));

interface Rate {
  /** Deliveries/s in the measured window (after the warm-up). */
  readonly perSecond: number;
  readonly seconds: number;
  /** Deliveries/s from the process's start (warm-up included). */
  readonly coldPerSecond: number;
  /** The process's CPU time per delivery in the window, in µs. */
  readonly cpuMicros: number;
  /**
   * CPU time per delivery over the whole run (warm-up included), in µs, of this machine's
   * PostgreSQL processes (null where /proc does not show them) and of the receiver (this process).
   */
  readonly postgresCpuMicros: number | null;
  readonly receiverCpuMicros: number;
}

/**
 * CPU time (user and system, in seconds) of each of this machine's PostgreSQL processes so far, by
 * process id; null where /proc is not readable.
 */
function postgresCpu(): Map<string, number> | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid));
  } catch {
    return null;
  }
  const seconds = new Map<string, number>();
  for (const pid of pids) {
    const cpu = processCpu(pid); // null: gone meanwhile
    if (cpu?.name.startsWith("postgres")) seconds.set(pid, cpu.seconds);
  }
  return seconds;
}

/**
 * The PostgreSQL processes' CPU time between two readings, in seconds: what each process seen in
 * the second spent since the first (all of it, for one started since). A process that exited in
 * between is left out, rather than subtracted (a sum of the two readings' totals went negative
 * when a backend of an earlier run exited meanwhile).
 */
function postgresCpuBetween(before: Map<string, number>, after: Map<string, number>): number {
  let seconds = 0;
  for (const [pid, total] of after) seconds += total - (before.get(pid) ?? 0);
  return seconds;
}

/** Runs a contender, measuring the PostgreSQL processes' and this process's (the receiver's) CPU around it. */
async function measured(args: string[], deliveries: number): Promise<Rate> {
  const postgresBefore = postgresCpu();
  const receiverBefore = process.cpuUsage();
  const run = child(args);
  const exited = new Promise((resolve) => run.process.once("exit", resolve));
  const line = await run.line;
  // Read before the contender closes its connections: an exited backend's CPU leaves the sum.
  const postgresAfter = postgresCpu();
  const receiver = process.cpuUsage(receiverBefore);
  // And the next run starts once these backends are gone, for the same reason.
  await exited;
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    seconds: line.seconds!,
    perSecond: Math.round(line.delivered! / line.seconds!),
    coldPerSecond: Math.round(line.coldDelivered! / line.coldSeconds!),
    cpuMicros: Math.round((line.cpuSeconds! * 1e6) / line.delivered!),
    postgresCpuMicros:
      postgresBefore === null || postgresAfter === null
        ? null
        : Math.round((postgresCpuBetween(postgresBefore, postgresAfter) * 1e6) / deliveries),
    receiverCpuMicros: Math.round((receiver.user + receiver.system) / deliveries),
  };
}

export interface WebhookBenchResult {
  /** Deliveries measured per run, after `warmup` untimed ones. */
  readonly events: number;
  readonly warmup: number;
  /** The medians of the pairs. */
  readonly worker: Rate;
  readonly bare: Rate;
  readonly pairs: readonly { readonly bare: Rate; readonly worker: Rate }[];
  /** Commit-to-delivery for events committed straight into the outbox at the target rate. */
  readonly direct: {
    readonly writesPerSecond: number;
    readonly events: number;
    readonly delivered: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  readonly latency: {
    readonly writesPerSecond: number;
    readonly failedWrites: number;
    /** Failed writes by status (or `network`). */
    readonly failures: Record<string, number>;
    readonly seconds: number;
    readonly events: number;
    readonly delivered: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    /** Arrival at the receiver − the writer's receipt of the API's answer (a lower bound of commit-to-delivery). */
    readonly afterAnswer: { matched: number; p50Ms: number; p99Ms: number; maxMs: number };
  };
}

function child(args: string[]): { process: ChildProcess; line: Promise<Record<string, number>> } {
  // BENCH_CPU_PROF=<folder>: each delivery process writes a V8 CPU profile there (`--cpu-prof`).
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // Both contenders (and the latency half's delivery loop) run with the Node flags of `pnpm worker`.
  const proc = spawn(
    process.execPath,
    [...profile, ...WORKER_NODE_FLAGS, "--import", "tsx", "src/webhook-delivery-run.ts", ...args],
    {
      cwd: here,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    },
  );
  const line = new Promise<Record<string, number>>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!));
    });
    proc.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`delivery run exited ${code}`))));
  });
  return { process: proc, line };
}

async function receiver(onBody: (body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      onBody(body);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

/** A fresh migrated and seeded database (`freshDatabase`) with an ORM over it; `drop` closes and drops both. */
async function seededDatabase(
  adminUrl: string,
): Promise<{ url: string; orm: Orm; drop: () => Promise<void> }> {
  const db = await freshDatabase(adminUrl, "hooks");
  const orm = await connect({ url: db.url });
  await migrateAndSeed(orm);
  return {
    url: db.url,
    orm,
    async drop() {
      await orm.close(true);
      await db.drop();
    },
  };
}

/**
 * (1) Throughput over the same outbox rows: bare loop and worker alternate in `pairs` pairs, each
 * on fresh events; each side's median and every pair.
 */
/** Commits `count` `deployment.updated` events of one tenant, a thousand a transaction: a backlog. */
export async function recordBenchmarkEvents(orm: Orm, tenantId: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 1000)
    await orm.em.fork().transactional((em) =>
      recordEvents(
        em,
        Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
          type: "deployment.updated" as const,
          tenantId,
          occurredAt: new Date(),
          data: { id: newId(), n: done + i, displayName: "Benchmark deployment", state: "active" },
        })),
      ),
    );
}

export async function webhookThroughput(
  adminUrl: string,
  options: { events?: number; warmup?: number; pairs?: number } = {},
): Promise<Pick<WebhookBenchResult, "worker" | "bare" | "pairs">> {
  const count = options.events ?? 5000;
  const warmup = options.warmup ?? 5000;
  const ctx = (orm: Orm) => useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
  const sink = await receiver(() => {});
  const db = await seededDatabase(adminUrl);
  try {
    const { tenantId } = await seedSubscriptions(db.orm, { count: 1, createdAt: new Date(), addonCodes: [] });
    const { secret } = await createWebhookEndpoint(
      ctx(db.orm),
      operator,
      { url: sink.url, tenantId },
      { allowPrivateNetworks: true },
    );
    // Pairs run one after the other on fresh outbox rows each (the machine is shared: one pair
    // alone says little); the figures are each side's median, the pairs are listed too.
    const pairs: { bare: Rate; worker: Rate }[] = [];
    for (let pair = 0; pair < (options.pairs ?? 5); pair++) {
      const [last] = await db.orm.em
        .fork()
        .getConnection()
        .execute<{ position: string }[]>("select coalesce(max(position), 0)::text as position from events");
      const total = warmup + count;
      await recordBenchmarkEvents(db.orm, tenantId, total);
      const sizes = [String(warmup), String(count)];
      const bare = await measured(["bare", db.url, ...sizes, sink.url, secret, last!.position], total);
      const worker = await measured(["dispatcher", db.url, ...sizes], total);
      pairs.push({ bare, worker });
    }
    const median = (side: "bare" | "worker") =>
      [...pairs].sort((a, b) => a[side].perSecond - b[side].perSecond)[Math.floor(pairs.length / 2)]![side];
    return { bare: median("bare"), worker: median("worker"), pairs };
  } finally {
    await db.drop();
    sink.server.close();
    sink.server.closeAllConnections();
  }
}

export async function webhookBenchmark(
  adminUrl: string,
  options: {
    events?: number;
    warmup?: number;
    pairs?: number;
    latencySeconds?: number;
    writesPerSecond?: number;
  } = {},
): Promise<WebhookBenchResult> {
  const count = options.events ?? 5000;
  const warmup = options.warmup ?? 5000;
  const ctx = (orm: Orm) => useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
  const throughput = await webhookThroughput(adminUrl, options);

  // (2) Commit-to-delivery under API load: the API and the delivery loop in processes of their own.
  const seconds = options.latencySeconds ?? 15;
  const rate = options.writesPerSecond ?? 200;
  const delays: number[] = [];
  // Arrival at the receiver by change (deployment id and its updatedAt, unique per transition),
  // to set against the moment the API's answer reached the writer (after the commit).
  const arrivals = new Map<string, number>();
  const answers = new Map<string, number>();
  const latencySink = await receiver((body) => {
    const event = JSON.parse(body) as { occurredAt: string; data: { id: string; updatedAt: string } };
    delays.push(Date.now() - new Date(event.occurredAt).getTime());
    arrivals.set(`${event.data.id} ${event.data.updatedAt}`, Date.now());
  });
  const second = await seededDatabase(adminUrl);
  const processes: ChildProcess[] = [];
  try {
    // Enough deployments that each is toggled only every 2 s at 200 writes/s: a toggle never
    // overtakes the previous one (which would be a 409, not a write).
    const { tenantId } = await seedSubscriptions(second.orm, {
      count: Math.max(64, rate * 2),
      createdAt: new Date(),
      addonCodes: [],
    });
    const ids = (
      await second.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string }[]>("select id from deployments order by id")
    ).map((r) => r.id);
    await createWebhookEndpoint(
      ctx(second.orm),
      operator,
      { url: latencySink.url, tenantId },
      { allowPrivateNetworks: true },
    );
    const token = `bench-${newId()}`;
    await ensureBootstrapToken(ctx(second.orm), token);
    const api = spawn(process.execPath, ["--import", "tsx", "src/api-server.ts", second.url], {
      cwd: here,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    processes.push(api);
    const port = await new Promise<number>((resolve) =>
      api.stdout!.once("data", (chunk) => resolve(JSON.parse(String(chunk)).port)),
    );
    const loop = child(["loop", second.url]);
    processes.push(loop.process);
    await loop.line;
    // Open loop: one transition every 1000/rate ms, whatever the answers; each deployment toggles
    // between active and paused. A deployment with a transition in flight is skipped (its next one
    // would depend on the answer), and one whose answer was lost leaves the rotation (its state is
    // unknown), so every write sent is a valid one.
    const paused = new Set<string>();
    const busy = new Set<string>();
    const rotation = [...ids];
    const inFlight: Promise<unknown>[] = [];
    let sent = 0;
    let ok = 0;
    let failed = 0;
    const failures: Record<string, number> = {};
    const fail = (why: string) => {
      failed += 1;
      failures[why] = (failures[why] ?? 0) + 1;
    };
    const started = Date.now();
    let next = 0;
    while (Date.now() - started < seconds * 1000) {
      const due = started + (sent * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      let id = rotation[next++ % rotation.length]!;
      for (let tries = 0; busy.has(id) && tries < rotation.length; tries++)
        id = rotation[next++ % rotation.length]!;
      sent += 1;
      if (busy.has(id)) {
        fail("no deployment free");
        continue;
      }
      const to = paused.has(id) ? "active" : "paused";
      busy.add(id);
      inFlight.push(
        fetch(`http://127.0.0.1:${port}/api/v1/deployments/${id}/transition`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ to }),
        })
          .then(async (r) => {
            const answer = (await r.json().catch(() => null)) as {
              deployment?: { updatedAt?: string };
              updatedAt?: string;
            } | null;
            busy.delete(id);
            if (r.status !== 200) return fail(String(r.status));
            answers.set(`${id} ${answer?.deployment?.updatedAt ?? answer?.updatedAt}`, Date.now());
            ok += 1;
            if (to === "paused") paused.add(id);
            else paused.delete(id);
          })
          .catch((error: { cause?: { code?: string } }) => {
            fail(`network ${error.cause?.code ?? ""}`.trim());
            rotation.splice(rotation.indexOf(id), 1);
          }),
      );
    }
    await Promise.all(inFlight);
    const elapsed = (Date.now() - started) / 1000;
    const deadline = Date.now() + 30_000;
    while (delays.length < ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const sorted = [...delays].sort((a, b) => a - b);
    const afterAnswer = [...answers]
      .filter(([key]) => arrivals.has(key))
      .map(([key, at]) => arrivals.get(key)! - at)
      .sort((a, b) => a - b);
    const deliveredViaApi = delays.length;
    // The same rate of event-writing commits straight into the outbox (no API in front): what the
    // delivery side does at the target rate when the API cannot reach it on this machine.
    const committed = new Map<string, number>();
    const directInFlight: Promise<unknown>[] = [];
    let directSent = 0;
    const directStarted = Date.now();
    while (Date.now() - directStarted < seconds * 1000) {
      const due = directStarted + (directSent * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const key = `direct-${directSent++}`;
      directInFlight.push(
        second.orm.em
          .fork()
          .transactional((em) =>
            recordEvents(em, [
              {
                type: "deployment.updated",
                tenantId,
                occurredAt: new Date(),
                data: { id: key, updatedAt: "direct" },
              },
            ]),
          )
          .then(() => committed.set(`${key} direct`, Date.now())),
      );
    }
    await Promise.all(directInFlight);
    const directElapsed = (Date.now() - directStarted) / 1000;
    const directDeadline = Date.now() + 30_000;
    const directArrived = () => [...committed.keys()].filter((k) => arrivals.has(k)).length;
    while (directArrived() < committed.size && Date.now() < directDeadline)
      await new Promise((r) => setTimeout(r, 50));
    const afterCommit = [...committed]
      .filter(([key]) => arrivals.has(key))
      .map(([key, at]) => arrivals.get(key)! - at)
      .sort((a, b) => a - b);
    return {
      events: count,
      warmup,
      ...throughput,
      direct: {
        writesPerSecond: Math.round(committed.size / directElapsed),
        events: committed.size,
        delivered: afterCommit.length,
        p50Ms: percentile(afterCommit, 50),
        p99Ms: percentile(afterCommit, 99),
        maxMs: afterCommit.at(-1) ?? 0,
      },
      latency: {
        writesPerSecond: Math.round(ok / elapsed),
        failedWrites: failed,
        failures,
        seconds,
        events: ok,
        delivered: deliveredViaApi,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1) ?? 0,
        afterAnswer: {
          matched: afterAnswer.length,
          p50Ms: percentile(afterAnswer, 50),
          p99Ms: percentile(afterAnswer, 99),
          maxMs: afterAnswer.at(-1) ?? 0,
        },
      },
    };
  } finally {
    for (const p of processes) p.kill("SIGTERM");
    await Promise.all(
      processes.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r)))),
    );
    await second.drop();
    latencySink.server.close();
    latencySink.server.closeAllConnections();
  }
}

/** The median of worker/bare over the pairs, in percent. */
function medianRatio(r: WebhookBenchResult): number {
  const ratios = r.pairs.map((p) => (p.worker.perSecond * 100) / p.bare.perSecond).sort((a, b) => a - b);
  return Math.round(ratios[Math.floor(ratios.length / 2)]!);
}

/** The BENCHMARKS.md section for a result. */
/** CPU figures per pair, in µs ("n/a" where PostgreSQL's processes could not be read). */
const micros = (values: readonly (number | null)[]) =>
  values.map((v) => (v === null ? "n/a" : `${v} µs`)).join(", ");

export function webhookSection(r: WebhookBenchResult): string {
  return `## Webhooks

Delivery to one local receiver (answering 204 at once) of events already in the outbox, 8 requests
in flight to the endpoint on both sides. Each run is a fresh process that delivers ${(r.warmup + r.events).toLocaleString("en")} events: the
first ${r.warmup.toLocaleString("en")} warm it up (V8 compiles the paths that run hot; pools and sockets fill) and the window
measured is the next ${r.events.toLocaleString("en")}, the pace of a long-running process. The same run's pace from its cold
start (warm-up included) is given beside it, and the CPU time that this machine's PostgreSQL
processes and the receiver (the benchmark's own process) spent per delivery over the whole run.
The receiver's endpoint is the only one enabled, so once the worker has seen it answer and at
most 5,000 events are left unread, its fan-out keeps pace with it, handing each page over to
itself under one lease as it reads it (ARCHITECTURE.md, "The fan-out leases first attempts, a page
at a time"); before that it reads ahead, 1,000 events a query, queueing deliveries due for claims.
So the warm-up's deliveries are mostly claimed, and the measured window's mostly handed over as
they are read.

- **worker**: the long-running loop of \`pnpm worker\` (\`startWebhookDispatcher\`) — the production
  path: fan-out from the feed into deliveries (handed over to the worker under its page's lease
  as it reads them when they fit the endpoint's room, else queued due), fair claims under a lease
  for the rest (one prepared
  query, claiming ahead of the free slots), signed POST over keep-alive, attempts logged and
  deliveries moved on in batches; its window closes when every delivery is answered and recorded.
- **bare loop**: reads the same outbox rows in pages of 500, signs each and POSTs it over keep-alive;
  records nothing.

Bare loop and worker alternate in ${r.pairs.length} pairs, each on fresh events; the table gives each
side's median (deliveries/s), then every pair in the order run (the median of the pairs' own ratios
is ${medianRatio(r)}%):

| path | deliveries/s (median) | of bare | pairs: warm (of bare) | pairs: from a cold start (of bare) | CPU per delivery (own process, warm) | PostgreSQL's CPU per delivery (whole run) | the receiver's CPU per delivery (whole run) |
|---|---|---|---|---|---|---|---|
| worker | ${r.worker.perSecond.toLocaleString("en")} | ${Math.round((r.worker.perSecond * 100) / r.bare.perSecond)}% | ${r.pairs.map((p) => `${p.worker.perSecond.toLocaleString("en")} (${Math.round((p.worker.perSecond * 100) / p.bare.perSecond)}%)`).join(", ")} | ${r.pairs.map((p) => `${p.worker.coldPerSecond.toLocaleString("en")} (${Math.round((p.worker.coldPerSecond * 100) / p.bare.coldPerSecond)}%)`).join(", ")} | ${r.pairs.map((p) => `${p.worker.cpuMicros} µs`).join(", ")} | ${micros(r.pairs.map((p) => p.worker.postgresCpuMicros))} | ${micros(r.pairs.map((p) => p.worker.receiverCpuMicros))} |
| bare loop | ${r.bare.perSecond.toLocaleString("en")} | 100% | ${r.pairs.map((p) => p.bare.perSecond.toLocaleString("en")).join(", ")} | ${r.pairs.map((p) => p.bare.coldPerSecond.toLocaleString("en")).join(", ")} | ${r.pairs.map((p) => `${p.bare.cpuMicros} µs`).join(", ")} | ${micros(r.pairs.map((p) => p.bare.postgresCpuMicros))} | ${micros(r.pairs.map((p) => p.bare.receiverCpuMicros))} |

What the worker path pays per delivery that the bare loop does not: the fan-out (matching each
event to its endpoints; a page's lease for what it hands over, a delivery row for what it queues
due), for a delivery queued due a claim (a lease: an update in place, one prepared query refilling
per-endpoint queues ahead of the free slots), and the outcome (the attempt logged, up to 250
a statement, and a queued delivery moved on) — row writes and their index entries in PostgreSQL,
which shares these two cores with both processes and the receiver.

Commit to delivery while the API takes ${r.latency.writesPerSecond} writes/s (${r.latency.failedWrites} refused or failed${r.latency.failedWrites > 0 ? `: ${JSON.stringify(r.latency.failures)}` : ""}; open loop of
\`POST /deployments/{id}/transition\` for ${r.latency.seconds} s; the API, the delivery loop of
\`pnpm worker\` and this receiver each in a process of their own). The commit itself is not observable
from outside, so it is bracketed: from the event's \`occurredAt\` (taken inside the transaction, before
its commit: an upper bound) and from the moment the API's answer reached the writer (after the
commit: a lower bound, negative when the webhook arrived first):

| measured from | events | delivered | p50 | p99 | max |
|---|---|---|---|---|---|
| \`occurredAt\` (upper bound) | ${r.latency.events.toLocaleString("en")} | ${r.latency.delivered.toLocaleString("en")} | ${r.latency.p50Ms} ms | ${r.latency.p99Ms} ms | ${r.latency.maxMs} ms |
| the API's answer (lower bound) | ${r.latency.events.toLocaleString("en")} | ${r.latency.afterAnswer.matched.toLocaleString("en")} | ${r.latency.afterAnswer.p50Ms} ms | ${r.latency.afterAnswer.p99Ms} ms | ${r.latency.afterAnswer.maxMs} ms |

The same delivery loop while this process commits ${r.direct.writesPerSecond} event-writing transactions/s straight into the outbox
(open loop, no API in front, ${r.latency.seconds} s; latency = arrival − the commit's acknowledgement: low by at most that round trip):

| events | delivered | p50 | p99 | max |
|---|---|---|---|---|
| ${r.direct.events.toLocaleString("en")} | ${r.direct.delivered.toLocaleString("en")} | ${r.direct.p50Ms} ms | ${r.direct.p99Ms} ms | ${r.direct.maxMs} ms |
`;
}
