// The API load benchmark: our server and the bare baseline, each in its own process over the same
// seeded PostgreSQL database, driven by a closed-loop load generator with 32 connections.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connect, ensureBootstrapToken, migrateAndSeed, newId, transitionDeployment } from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import pg from "pg";

const here = fileURLToPath(new URL("..", import.meta.url));
export const CONNECTIONS = 32;
const DEPLOYMENTS = 256;

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

/** Closed loop: each of `connections` lanes sends its next request when the previous one answers. */
async function load(
  seconds: number,
  request: (lane: number, i: number) => Promise<Response>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, lane) => {
      for (let i = 0; performance.now() < until; i++) {
        const t = performance.now();
        const r = await request(lane, i);
        await r.arrayBuffer();
        if (r.status >= 300) errors += 1;
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function startServer(script: string, url: string): Promise<{ child: ChildProcess; base: string }> {
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
  return { child, base: `http://127.0.0.1:${port}` };
}

export interface ApiBenchResult {
  readonly read: { api: LoadResult; trpc: LoadResult; bare: LoadResult };
  readonly write: { api: LoadResult; bare: LoadResult };
  readonly subscribe: { api: LoadResult; bare: LoadResult };
}

export async function apiBenchmark(adminUrl: string, seconds: number): Promise<ApiBenchResult> {
  const name = `arcadia_bench_api_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const orm = await connect({ url: url.toString() });
  const servers: ChildProcess[] = [];
  try {
    await migrateAndSeed(orm);
    const { tenantId } = await seedSubscriptions(orm, {
      count: DEPLOYMENTS,
      createdAt: new Date(),
      addonCodes: ["storage_50gb", "compute_2vcpu"],
    });
    const token = `bench-${newId()}`;
    const ctx = () => ({
      em: orm.em.fork(),
      now: () => new Date(),
      newId: () => newId(),
      regions: DEFAULT_REGIONS,
    });
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
    const api = await startServer("src/api-server.ts", url.toString());
    const bare = await startServer("src/bare-server.ts", url.toString());
    servers.push(api.child, bare.child);
    const pick = (lane: number, i: number) => ids[(lane * 7 + i) % ids.length]!;

    // Warm up both servers (JIT, pools) before measuring.
    await load(1, (lane, i) => fetch(`${api.base}/api/v1/deployments/${pick(lane, i)}`, { headers }));
    await load(1, (lane, i) => fetch(`${bare.base}/api/v1/deployments/${pick(lane, i)}`, { headers }));
    const read = {
      api: await load(seconds, (lane, i) =>
        fetch(`${api.base}/api/v1/deployments/${pick(lane, i)}`, { headers }),
      ),
      trpc: await load(seconds, (lane, i) =>
        fetch(
          `${api.base}/trpc/deployments.get?input=${encodeURIComponent(JSON.stringify({ id: pick(lane, i) }))}`,
          { headers },
        ),
      ),
      bare: await load(seconds, (lane, i) =>
        fetch(`${bare.base}/api/v1/deployments/${pick(lane, i)}`, { headers }),
      ),
    };
    // Writes: each lane owns its deployments and toggles each between paused and active.
    const owned = (lane: number) => ids.filter((_, k) => k % CONNECTIONS === lane);
    const writer = (base: string) => {
      const next = new Map<string, "paused" | "active">(ids.map((id) => [id, "paused"]));
      return (lane: number, i: number) => {
        const mine = owned(lane);
        const id = mine[i % mine.length]!;
        const to = next.get(id)!;
        next.set(id, to === "paused" ? "active" : "paused");
        return fetch(`${base}/api/v1/deployments/${id}/transition`, {
          method: "POST",
          headers,
          body: JSON.stringify({ to }),
        });
      };
    };
    const write = {
      api: await load(seconds, writer(api.base)),
      bare: await load(seconds, writer(bare.base)),
    };

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
    const subscriber = (base: string, pool: string[]) => (_lane: number, _i: number) => {
      const id = pool.pop();
      if (!id) throw new Error("ran out of fresh deployments; raise the pool size");
      return fetch(`${base}/api/v1/deployments/${id}/subscribe`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          planCode: "studio",
          addons: [{ code: "storage_50gb" }, { code: "compute_2vcpu" }],
        }),
      });
    };
    const poolSize = 1500 * seconds;
    const apiPool = await fresh(poolSize);
    const barePool = await fresh(poolSize);
    await orm.em.getConnection().execute("vacuum analyze");
    const subscribe = {
      api: await load(seconds, subscriber(api.base, apiPool)),
      bare: await load(seconds, subscriber(bare.base, barePool)),
    };
    return { read, write, subscribe };
  } finally {
    for (const child of servers) child.kill("SIGTERM");
    await orm.close(true);
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}
