import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type Backend,
  createTestDatabase,
  seedSubscriptions,
  type TestDatabase,
  testBackends,
} from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerProcessArgs } from "./node-flags.ts";

const workerDir = fileURLToPath(new URL("..", import.meta.url));
const NOW = "2027-01-01T00:00:00.000Z";
const COUNT = 1200;
// Created 2026-08-15: August (17 of 31 days), then September to December in full.
const PERIODS = ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"];
const AUGUST = 2687 + 411 + 1097; // studio 4900, storage 750, compute 2000, each × 17/31, half-even
const FULL_MONTH = 4900 + 750 + 2000;

function startWorker(
  database: Readonly<Record<string, string>>,
  args: string[] = [],
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string }> } {
  const child = spawn(process.execPath, workerProcessArgs("--once", "--now", NOW, ...args), {
    cwd: workerDir,
    env: { ...process.env, ...database, LOG_LEVEL: process.env.DEBUG_WORKER ? "debug" : "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on("data", (chunk) => process.env.DEBUG_WORKER && process.stderr.write(chunk));
  if (process.env.DEBUG_WORKER) child.stdout!.on("data", (chunk) => process.stderr.write(chunk));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => {
    child.on("exit", (code) => resolve({ code, stdout }));
  });
  return { child, done };
}

async function count(db: TestDatabase, sql: string): Promise<number> {
  const rows = await db.orm.em.fork().getConnection().execute(sql);
  return Number(rows[0]!.n);
}

describe.each(testBackends({ pooled: true }))("worker processes on %s", (backend: Backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend, { poolSize: 4 });
    await seedSubscriptions(db.orm, {
      count: COUNT,
      createdAt: new Date("2026-08-15T00:00:00Z"),
      addonCodes: ["storage_50gb", "compute_2vcpu"],
    });
  });
  afterAll(() => db?.close());

  // Up to 3 minutes: five racing processes over 6,000 invoices, each batch also recording its
  // invoice.issued events; on the embedded database on a busy shared machine this outgrew 60 s.
  it("survives SIGKILL mid-run; racing reruns finish with exactly one invoice per subscription and period", async () => {
    const victim = startWorker(db.env, ["--batch-size", "10"]);
    const deadline = Date.now() + 60_000;
    while ((await count(db, "select count(*) as n from statements")) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    victim.child.kill("SIGKILL");
    await victim.done;
    const afterKill = await count(db, "select count(*) as n from statements");
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(COUNT * PERIODS.length);
    // Every batch is all-or-nothing: no invoice without its lines, no period advanced without its invoice.
    expect(
      await count(
        db,
        "select count(*) as n from statements s where not exists (select 1 from statement_lines l where l.statement_id = s.id)",
      ),
    ).toBe(0);

    const racers = [
      startWorker(db.env, ["--batch-size", "25"]),
      startWorker(db.env, ["--batch-size", "40"]),
      startWorker(db.env),
    ];
    const results = await Promise.all(racers.map((r) => r.done));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const issued = results.map(
      (r) => JSON.parse(r.stdout.trim().split("\n").at(-1)!).invoicesIssued as number,
    );
    expect(afterKill + issued.reduce((a, b) => a + b, 0)).toBe(COUNT * PERIODS.length);

    expect(await count(db, "select count(*) as n from statements")).toBe(COUNT * PERIODS.length);
    expect(
      await count(
        db,
        "select count(*) as n from (select subscription_id, period_start from statements group by 1, 2 having count(*) > 1) x",
      ),
    ).toBe(0);
    expect(
      await count(db, `select count(*) as n from subscriptions where current_period_start <> '${NOW}'`),
    ).toBe(0);
    const totals = await db.orm.em
      .fork()
      .getConnection()
      .execute(
        "select to_char(period_start at time zone 'UTC', 'YYYY-MM') as period, min(total_cents)::int as lo, max(total_cents)::int as hi, count(*)::int as n from statements group by 1 order by 1",
      );
    expect(totals).toEqual(
      PERIODS.map((period, i) => ({
        period,
        lo: i === 0 ? AUGUST : FULL_MONTH,
        hi: i === 0 ? AUGUST : FULL_MONTH,
        n: COUNT,
      })),
    );
  }, 180_000);

  it("issues nothing on a rerun and prints its summary", async () => {
    const { code, stdout } = await startWorker(db.env).done;
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(summary).toMatchObject({
      invoicesIssued: 0,
      totalsByCurrency: {},
      trialsConverted: 0,
      skippedByOverride: 0,
    });
  });
});

describe("the worker's command line", () => {
  /** Runs the worker with `args` only (it refuses them before opening any database). */
  function run(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, workerProcessArgs(...args), {
      cwd: workerDir,
      env: { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr!.on("data", (chunk) => {
      output += chunk;
    });
    return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
  }

  it.each([
    [["--bogus"], "Unknown option '--bogus'"],
    [["--once", "--concurrency", "-1"], "--concurrency"],
    [["--once", "--batch-size", "0"], "--batch-size must be a positive whole number"],
    [["--once", "--now", "garbage"], "--now must be an ISO-8601 instant"],
    [["--once", "--now", "2027-01-01T00:00:00"], "--now must be an ISO-8601 instant"],
    [["--once", "--now", "Jan 1 2027"], "--now must be an ISO-8601 instant"],
    [["--once", "--now", "2026-13-01T00:00:00Z"], "--now must be an ISO-8601 instant"],
    [["--once", "--now", "2026-02-30T00:00:00Z"], "--now must be an ISO-8601 instant"],
  ])("refuses %j with one error line, its usage and exit 2", async (args, message) => {
    const { code, output } = await run(args);
    expect(code).toBe(2);
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: "error", usage: expect.stringContaining("pnpm worker") });
    expect(line.msg).toContain(message);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it.each([
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of"],
    [{ PORT: "abc" }, "PORT must be a port number"],
  ])("refuses the setting %j with one error line and exit 2", async (env, message) => {
    const { code, output } = await run(["--once"], env);
    expect(code).toBe(2);
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "error", service: "worker" });
    expect(JSON.parse(lines[0]!).msg).toContain(message);
  });
});
