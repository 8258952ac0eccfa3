// The API load benchmark: our server and the bare baseline, each in its own process over the same
// seeded PostgreSQL database, driven by a closed-loop load generator with 32 connections.

import { type ChildProcess, spawn } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import {
  connect,
  ensureBootstrapToken,
  migrateAndSeed,
  newId,
  runRolloverPass,
  transitionDeployment,
  useCaseContext,
} from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { type Contender, interleaved, type LoadResult } from "./http-load.ts";
import { freshDatabase } from "./measured-run.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
export const CONNECTIONS = 32;
/** The reads are measured once more at this many connections, for latency without queueing. */
export const LIGHT_CONNECTIONS = 4;
/** Each contender is loaded in turns of this many seconds, alternating (see `interleaved`). */
export const TURN_SECONDS = 1;
/**
 * Unmeasured load each contender gets before a group's turns begin: V8 is still compiling the hot
 * paths for the first seconds (with 1 s, the first measured second still held most of the slow
 * requests).
 */
export const WARMUP_SECONDS = 3;
const DEPLOYMENTS = 256;
/** The two main lists, a page of 50 (of 512 deployments and 256–512 invoices). */
export const LIST_DEPLOYMENTS = "/api/v1/deployments?limit=50";
export const LIST_INVOICES = "/api/v1/invoices?limit=50";

async function startServer(
  script: string,
  url: string,
): Promise<{ child: ChildProcess; port: number; base: string }> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each server process there (open it in Chrome
  // DevTools or speedscope) to see where a request's time goes.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", script, url], {
    cwd: here,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (chunk) => resolve(JSON.parse(String(chunk)).port));
    child.once("exit", (code) => reject(new Error(`${script} exited ${code}`)));
  });
  return { child, port, base: `http://127.0.0.1:${port}` };
}

export interface ApiBenchResult {
  readonly read: { api: LoadResult; trpc: LoadResult; bare: LoadResult; floor: LoadResult };
  readonly deploymentList: { api: LoadResult; trpc: LoadResult; floor: LoadResult };
  readonly invoiceList: { api: LoadResult; trpc: LoadResult; floor: LoadResult };
  readonly unsaturated: { api: LoadResult; bare: LoadResult };
  readonly write: { api: LoadResult; bare: LoadResult };
  readonly subscribe: { api: LoadResult; bare: LoadResult };
  /** Each group's load average (1 min) at its start → its end. */
  readonly loads: Record<
    "read" | "deploymentList" | "invoiceList" | "unsaturated" | "write" | "subscribe",
    string
  >;
}

export async function apiBenchmark(adminUrl: string, seconds: number): Promise<ApiBenchResult> {
  const db = await freshDatabase(adminUrl, "api");
  const orm = await connect({ url: db.url });
  const servers: ChildProcess[] = [];
  try {
    await migrateAndSeed(orm);
    const { tenantId } = await seedSubscriptions(orm, {
      count: DEPLOYMENTS,
      createdAt: new Date(),
      addonCodes: ["storage_50gb", "compute_2vcpu"],
    });
    // Invoices for the invoice list: a second tenant's subscriptions began 40 days ago, so the
    // worker issues each one or two (three lines each); the first tenant's periods are not due.
    await seedSubscriptions(orm, {
      count: DEPLOYMENTS,
      createdAt: new Date(Date.now() - 40 * 86_400_000),
      addonCodes: ["storage_50gb", "compute_2vcpu"],
    });
    await runRolloverPass(orm, { now: new Date() });
    const token = `bench-${newId()}`;
    const ctx = () => useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
    await ensureBootstrapToken(ctx(), token);
    const operator = { id: "bench", role: "platform_admin" as const, tenantId: null };
    const ids = (
      await orm.em
        .getConnection()
        .execute("select id from deployments where tenant_id = ? order by id", [tenantId])
    ).map((r) => r.id as string);
    for (const id of ids) {
      for (const to of ["paused", "active", "paused", "active"] as const)
        await transitionDeployment(ctx(), operator, id, { to });
    }
    await orm.em.getConnection().execute("vacuum analyze");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const api = await startServer("src/api-server.ts", db.url);
    const bare = await startServer("src/bare-server.ts", db.url);
    const floor = await startServer("src/floor-server.ts", db.url);
    servers.push(api.child, bare.child, floor.child);
    const pick = (lane: number, i: number) => ids[(lane * 7 + i) % ids.length]!;

    // Both must serve the same document before their speeds mean anything: the bare server
    // parses, presents and stringifies the API's JSON, and answers with the API's very bytes.
    const documentPath = `/api/v1/deployments/${ids[0]}`;
    const [ours, theirs] = await Promise.all(
      [api.base, bare.base].map(async (base) => (await fetch(base + documentPath, { headers })).text()),
    );
    if (ours !== theirs) throw new Error(`the bare server serves another document:\n${theirs}\nvs\n${ours}`);
    // The floor answers with the API's very bytes.
    for (const path of [`/api/v1/deployments/${ids[0]}`, LIST_DEPLOYMENTS, LIST_INVOICES]) {
      const [a, f] = await Promise.all(
        [api.base, floor.base].map(async (base) => (await fetch(base + path, { headers })).text()),
      );
      if (a !== f) throw new Error(`the floor server answers ${path} differently:\n${f}\nvs\n${a}`);
    }

    const auth = { authorization: headers.authorization };
    const readOne = (lane: number, i: number) => ({
      method: "GET",
      path: `/api/v1/deployments/${pick(lane, i)}`,
    });
    // Every contender of a group is warmed up first (JIT compilation, pools, caches), unmeasured.
    // The machine's load average (`uptime`, 1 min) is noted at each group's start and end.
    const compare = async <K extends string>(contenders: Record<K, Contender>, connections = CONNECTIONS) => {
      const before = loadavg()[0]!;
      const result = await interleaved(contenders, {
        seconds,
        turn: TURN_SECONDS,
        connections,
        headers: auth,
        warmup: WARMUP_SECONDS,
      });
      loads.push(`${before.toFixed(1)}→${loadavg()[0]!.toFixed(1)}`);
      return result;
    };
    const loads: string[] = [];
    const read = await compare({
      api: { port: api.port, next: readOne },
      // What the typed client (httpBatchLink) sends for one query: a batch of one.
      trpc: {
        port: api.port,
        next: (lane, i) => ({
          method: "GET",
          path: `/trpc/deployments.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { id: pick(lane, i) } }))}`,
        }),
      },
      bare: { port: bare.port, next: readOne },
      floor: { port: floor.port, next: readOne },
    });
    const listOf = (path: string, procedure: string) =>
      compare({
        api: { port: api.port, next: () => ({ method: "GET", path }) },
        trpc: {
          port: api.port,
          next: () => ({
            method: "GET",
            path: `/trpc/${procedure}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { limit: 50 } }))}`,
          }),
        },
        floor: { port: floor.port, next: () => ({ method: "GET", path }) },
      });
    const deploymentList = await listOf(LIST_DEPLOYMENTS, "deployments.list");
    const invoiceList = await listOf(LIST_INVOICES, "invoices.list");
    // Latency without queueing: few enough connections that neither server is saturated.
    const unsaturated = await compare(
      { api: { port: api.port, next: readOne }, bare: { port: bare.port, next: readOne } },
      LIGHT_CONNECTIONS,
    );
    // Writes: each lane owns its deployments and toggles each between paused and active.
    // The two servers take turns, so each toggles a half of its own: a lane's next target state is
    // then always the one its deployment is not in.
    const half = (side: 0 | 1) => ids.filter((_, k) => k % 2 === side);
    const writer = (side: 0 | 1) => {
      const next = new Map<string, "paused" | "active">(half(side).map((id) => [id, "paused"]));
      const owned = Array.from({ length: CONNECTIONS }, (_, lane) =>
        half(side).filter((_, k) => k % CONNECTIONS === lane),
      );
      return (lane: number, i: number) => {
        const mine = owned[lane]!;
        const id = mine[i % mine.length]!;
        const to = next.get(id)!;
        next.set(id, to === "paused" ? "active" : "paused");
        return { method: "POST", path: `/api/v1/deployments/${id}/transition`, body: JSON.stringify({ to }) };
      };
    };
    const write = await compare({
      api: { port: api.port, next: writer(0) },
      bare: { port: bare.port, next: writer(1) },
    });

    // Subscriptions: each request subscribes a fresh, unsubscribed deployment (studio + two add-ons).
    const fresh = async (count: number) => {
      const rows = await orm.em.getConnection().execute(
        `with d as (
           insert into deployments (id, tenant_id, slug, display_name, region, state, llm_mode, billing_action_suspended, last_event_sequence, created_at, updated_at)
           select gen_random_uuid(), ?, 'fresh-' || gen_random_uuid(), 'Fresh', 'au-syd', 'active', 'shared', false, 1, now(), now() from generate_series(1, ?)
           returning id
         ), e as (
           insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, occurred_at)
           select gen_random_uuid(), d.id, 1, null, 'active', 'system', 'seed', now() from d
         )
         select id from d`,
        [tenantId, count],
      );
      return rows.map((r) => r.id as string);
    };
    const subscriber = (pool: string[]) => (_lane: number, _i: number) => {
      const id = pool.pop();
      if (!id) throw new Error("ran out of fresh deployments; raise the pool size");
      return {
        method: "POST",
        path: `/api/v1/deployments/${id}/subscribe`,
        body: JSON.stringify({
          planCode: "studio",
          addons: [{ code: "storage_50gb" }, { code: "compute_2vcpu" }],
        }),
      };
    };
    const poolSize = 3000 * (seconds + WARMUP_SECONDS);
    const apiPool = await fresh(poolSize);
    const barePool = await fresh(poolSize);
    await orm.em.getConnection().execute("vacuum analyze");
    const subscribe = await compare({
      api: { port: api.port, next: subscriber(apiPool) },
      bare: { port: bare.port, next: subscriber(barePool) },
    });
    const [readLoad, deploymentListLoad, invoiceListLoad, unsaturatedLoad, writeLoad, subscribeLoad] = loads;
    return {
      read,
      deploymentList,
      invoiceList,
      unsaturated,
      write,
      subscribe,
      loads: {
        read: readLoad!,
        deploymentList: deploymentListLoad!,
        invoiceList: invoiceListLoad!,
        unsaturated: unsaturatedLoad!,
        write: writeLoad!,
        subscribe: subscribeLoad!,
      },
    };
  } finally {
    for (const child of servers) child.kill("SIGTERM");
    await orm.close(true);
    await db.drop();
  }
}
