// scratch: profile the API server under read load, one process per read.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connect, ensureBootstrapToken, migrateAndSeed, newId, runRolloverPass, transitionDeployment, useCaseContext } from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import pg from "pg";
import { interleaved } from "./http-load.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const dir = process.argv[2]!;
const seconds = Number(process.argv[3] ?? 8);
const only = process.argv[4];
const adminUrl = "postgres://postgres@127.0.0.1:5432/postgres";
const name = `arcadia_prof_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database "${name}"`);
const url = new URL(adminUrl); url.pathname = `/${name}`;
const orm = await connect({ url: url.toString() });
async function start(script: string, tag: string) {
  const child = spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}/${tag}`, "--import", "tsx", script, url.toString()], { cwd: here, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  const port = await new Promise<number>((resolve) => child.stdout!.once("data", (c) => resolve(JSON.parse(String(c)).port)));
  return { child, port };
}
const stop = (child: ChildProcess) => new Promise((r) => { child.once("exit", r); child.kill("SIGTERM"); });
try {
  await migrateAndSeed(orm);
  const { tenantId } = await seedSubscriptions(orm, { count: 256, createdAt: new Date(), addonCodes: ["storage_50gb", "compute_2vcpu"] });
  await seedSubscriptions(orm, { count: 256, createdAt: new Date(Date.now() - 40 * 86400000), addonCodes: ["storage_50gb", "compute_2vcpu"] });
  await runRolloverPass(orm, { now: new Date() });
  const token = `x-${newId()}`;
  const ctx = () => useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
  await ensureBootstrapToken(ctx(), token);
  const ids = (await orm.em.getConnection().execute("select id from deployments where tenant_id = ? order by id", [tenantId])).map((r) => r.id as string);
  const operator = { id: "bench", role: "platform_admin" as const, tenantId: null };
  for (const id of ids) for (const to of ["paused", "active", "paused", "active"] as const) await transitionDeployment(ctx(), operator, id, { to });
  await orm.em.getConnection().execute("vacuum analyze");
  const pick = (lane: number, i: number) => ids[(lane * 7 + i) % ids.length]!;
  const scenarios: Record<string, (lane: number, i: number) => { method: string; path: string }> = {
    doc: (l, i) => ({ method: "GET", path: `/api/v1/deployments/${pick(l, i)}` }),
    trpc: (l, i) => ({ method: "GET", path: `/trpc/deployments.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { id: pick(l, i) } }))}` }),
    deployments: () => ({ method: "GET", path: "/api/v1/deployments?limit=50" }),
    invoices: () => ({ method: "GET", path: "/api/v1/invoices?limit=50" }),
  };
  for (const [tag, next] of Object.entries(scenarios)) {
    if (only && !only.split(",").includes(tag)) continue;
    const server = await start(process.env.SERVER ?? "src/api-server.ts", tag);
    const r = await interleaved({ x: { port: server.port, next } }, { seconds, turn: 1, connections: 32, headers: { authorization: `Bearer ${token}` }, warmup: 2 });
    console.log(tag, JSON.stringify(r.x));
    await stop(server.child);
  }
} finally {
  await orm.close(true);
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
}
