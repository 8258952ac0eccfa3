import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type Backend,
  createTestDatabase,
  seedOpenInvoices,
  seedSubscriptions,
  type TestDatabase,
  testBackends,
} from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerProcessArgs } from "./node-flags.ts";

const workerDir = fileURLToPath(new URL("..", import.meta.url));
const COUNT = 150;
const ISSUE = new Date("2026-12-01T00:00:00.000Z");
const DUE = new Date("2026-12-08T00:00:00.000Z");
const day = (n: number) => new Date(DUE.getTime() + n * 86_400_000).toISOString();

function startWorker(
  url: string,
  now: string,
  batch: number,
): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(
    process.execPath,
    workerProcessArgs("--once", "--now", now, "--batch-size", String(batch)),
    {
      cwd: workerDir,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let stdout = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  return { child, done: new Promise((resolve) => child.on("exit", () => resolve(stdout))) };
}

async function count(db: TestDatabase, sql: string): Promise<number> {
  return Number((await db.orm.em.fork().getConnection().execute(sql))[0]!.n);
}

describe.each(testBackends())("collection in worker processes on %s", (backend: Backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend, { poolSize: 4 });
    const { tenantId } = await seedSubscriptions(db.orm, {
      count: COUNT,
      createdAt: new Date("2026-11-01T00:00:00Z"),
    });
    await seedOpenInvoices(db.orm, { tenantId, issuedAt: ISSUE });
    const conn = db.orm.em.fork().getConnection();
    await conn.execute(
      "insert into payment_methods (tenant_id, id, provider, token, created_at) values (?, gen_random_uuid(), 'sandbox', 'tok_declined', ?)",
      [tenantId, ISSUE],
    );
    await conn.execute("update collection_schedule set due_at = ?", [ISSUE]);
  });
  afterAll(() => db?.close());

  it("SIGKILL during a pass and racing workers: one attempt per scheduled retry, one transition per step", async () => {
    // At issue, at the first retry and at the suspension: a worker killed mid-pass, then two racing
    // to finish. (Skipped slots stay unused: a late worker charges only the latest slot that has come.)
    const instants = [ISSUE.toISOString(), day(1), day(14)];
    let killed = 0;
    for (const now of instants) {
      const before = await count(
        db,
        "select count(*) + (select count(*) from deployment_events) as n from payments",
      );
      const victim = startWorker(db.url, now, 3);
      const deadline = Date.now() + 30_000;
      while (
        victim.child.exitCode === null &&
        (await count(db, "select count(*) + (select count(*) from deployment_events) as n from payments")) ===
          before &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (victim.child.exitCode === null) {
        victim.child.kill("SIGKILL");
        killed += 1;
      }
      await victim.done;
      const summaries = await Promise.all([5, 11].map((batch) => startWorker(db.url, now, batch).done));
      for (const output of summaries)
        expect(JSON.parse(output.trim().split("\n").at(-1)!)).toHaveProperty("collection");
    }
    // A last pass after the leases have run out reconciles whatever a kill left pending.
    await Promise.all([1, 2].map(() => startWorker(db.url, day(15), 10).done));
    expect(killed).toBeGreaterThan(0);
    expect(
      await count(
        db,
        "select count(*) as n from (select 1 from payments where attempt is not null group by invoice_id, attempt having count(*) > 1) x",
      ),
    ).toBe(0);
    // The slots the passes reached (issue, +1 day, +7 days: the latest by day 14), each charged once.
    expect(
      await count(
        db,
        "select count(*) as n from (select invoice_id from payments group by invoice_id having array_agg(attempt order by attempt) <> array[1, 2, 5]) x",
      ),
    ).toBe(0);
    expect(await count(db, "select count(*) as n from payments where status <> 'failed'")).toBe(0);
    expect(await count(db, "select count(distinct invoice_id) as n from payments")).toBe(COUNT);
    expect(
      await count(
        db,
        "select count(*) as n from (select idempotency_key from sandbox_charges group by 1 having count(*) > 1) x",
      ),
    ).toBe(0);
    // One past_due and one suspended event per deployment, in that order.
    expect(
      await count(
        db,
        `select count(*) as n from deployments d where d.state <> 'suspended' or
           (select array_agg(to_state order by sequence) from deployment_events e where e.deployment_id = d.id) <> array['active', 'past_due', 'suspended']`,
      ),
    ).toBe(0);
  }, 300_000);
});
