// Drill 4: a worker killed with SIGKILL again and again during a large rollover, then several
// workers racing to finish it: exactly one invoice per (subscription, period), right amounts.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestDatabase, seedSubscriptions } from "@arcadia/db/testing";
import { workerProcessArgs } from "@arcadia/worker";

const workerDir = fileURLToPath(new URL("../../../worker", import.meta.url));
const NOW = "2026-12-01T00:00:00.000Z";
const COUNT = Number(process.env.DRILL_SUBSCRIPTIONS ?? 20_000);
const PERIODS = 3; // September, October, November in full
const FULL_MONTH = 4900 + 750 + 2000;

function worker(url: string, batch: number): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    workerProcessArgs("--once", "--now", NOW, "--batch-size", String(batch)),
    {
      cwd: workerDir,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "error" },
      stdio: "ignore",
    },
  );
  return { child, done: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
}

export async function workerKillDrill(log: (msg: string) => void) {
  const db = await createTestDatabase(process.env.TEST_DATABASE_URL ? "postgres" : "embedded");
  try {
    await seedSubscriptions(db.orm, {
      count: COUNT,
      createdAt: new Date("2026-09-01T00:00:00Z"),
      addonCodes: ["storage_50gb", "compute_2vcpu"],
    });
    const count = async (sql: string) => Number((await db.orm.em.fork().getConnection().execute(sql))[0]!.n);
    let killed = 0;
    const progress: number[] = [];
    for (let round = 0; round < 5; round++) {
      const w = worker(db.url, 200);
      const before = await count("select count(*) as n from statements");
      const deadline = Date.now() + 30_000;
      // Wait until this worker has committed something, then kill it at a random moment after.
      while ((await count("select count(*) as n from statements")) === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      if (w.child.exitCode === null) {
        w.child.kill("SIGKILL");
        killed += 1;
      }
      await w.done;
      progress.push(await count("select count(*) as n from statements"));
    }
    log(`invoices after each kill: ${progress.join(", ")}`);
    const racers = [worker(db.url, 150), worker(db.url, 400), worker(db.url, 1000)];
    const codes = await Promise.all(racers.map((r) => r.done));
    return {
      subscriptions: COUNT,
      killed,
      racerExitCodes: codes,
      invoices: await count("select count(*) as n from statements"),
      expectedInvoices: COUNT * PERIODS,
      duplicates: await count(
        "select count(*) as n from (select 1 from statements group by subscription_id, period_start having count(*) > 1) x",
      ),
      wrongAmounts: await count(`select count(*) as n from statements where total_cents <> ${FULL_MONTH}`),
      orphanInvoices: await count(
        "select count(*) as n from statements s where not exists (select 1 from statement_lines l where l.statement_id = s.id)",
      ),
      periodsNotAdvanced: await count(
        `select count(*) as n from subscriptions where current_period_start <> '${NOW}'`,
      ),
    };
  } finally {
    await db.close();
  }
}
