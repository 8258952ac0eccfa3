import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createDeployment, createWebhookEndpoint, listEvents } from "@arcadia/db";
import {
  createTestDatabase,
  operator,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
  waitForFanOut,
} from "@arcadia/db/testing";
import { createLogger } from "@arcadia/runtime";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerProcessArgs } from "../node-flags.ts";
import { deliverDueWebhooks } from "./dispatcher.ts";
import { startReceiver } from "./receiver.testing.ts";
import { createWebhookSender } from "./sender.ts";

const workerDir = fileURLToPath(new URL("../..", import.meta.url));

function startWorker(url: string): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, workerProcessArgs(), {
    cwd: workerDir,
    env: {
      ...process.env,
      DATABASE_URL: url,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WORKER_CRON: "0 0 1 1 *",
      LOG_LEVEL: process.env.DEBUG_WORKER ? "debug" : "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (process.env.DEBUG_WORKER) child.stderr!.pipe(process.stderr);
  child.stdout!.resume();
  return { child, exited: new Promise((resolve) => child.on("exit", resolve)) };
}

describe.each(testBackends())("webhook delivery across a SIGKILLed worker on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend, { poolSize: 4 });
  });
  afterAll(() => db?.close());

  it("loses no event: attempts in flight when the worker dies are made again once their lease runs out", async () => {
    const clock = new TestClock(new Date());
    const ctx = () => testContext(db.orm, clock);
    const t = await tenantFixture(db.orm, clock);
    let killed = false;
    let onFifth: () => void = () => {};
    const fifth = new Promise<void>((resolve) => {
      onFifth = resolve;
    });
    // Before the kill the receiver holds every request from the fifth on (mid-delivery); after, it answers.
    const receiver = await startReceiver((index) => {
      if (killed) return 200;
      if (index >= 4) {
        onFifth();
        return "hang";
      }
      return 200;
    });
    const { endpoint, secret } = await createWebhookEndpoint(
      ctx(),
      t.admin,
      { url: receiver.url },
      { allowPrivateNetworks: true },
    );
    for (let i = 0; i < 20; i++) {
      await createDeployment(ctx(), t.admin, { slug: `k-${i}`, displayName: "K", region: "au-syd" });
    }
    const worker = startWorker(db.url);
    await fifth;
    worker.child.kill("SIGKILL");
    await worker.exited;
    killed = true;

    // What the dead worker held stays under its lease — a claim's, or the page's its fan-out
    // handed over without rows; once the lease has run out (a later clock), the next worker sends
    // everything not yet delivered. Like a running worker, it keeps going round until every event
    // has arrived and nothing is pending or leased (the dead session's locks and transaction are
    // released once the server notices it is gone).
    const sender = createWebhookSender({ allowPrivateNetworks: true });
    const verified = () =>
      new Set(
        receiver.received
          .filter((r) => {
            try {
              new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
              return true;
            } catch {
              return false;
            }
          })
          .map((r) => r.headers["webhook-id"]),
      );
    const leasesLeft = async () =>
      (
        await db.orm.em
          .fork()
          .getConnection()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from webhook_leases where ?::uuid = any(endpoint_ids)",
            [endpoint.id],
          )
      )[0]!.n;
    const pendingCount = async () =>
      (
        await db.orm.em
          .fork()
          .getConnection()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from webhook_deliveries where endpoint_id = ? and status <> 'succeeded'",
            [endpoint.id],
          )
      )[0]!.n;
    // The dead worker's fan-out had handed the events over to itself under a page's lease.
    expect(await leasesLeft()).toBeGreaterThan(0);
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
      clock.set(new Date(Date.now() + 31_000));
      await waitForFanOut(db.orm);
      await deliverDueWebhooks(
        db.orm,
        sender,
        createLogger("error", {}, () => {}),
        { now: clock.now },
      );
      if (verified().size === 20 && (await pendingCount()) === 0 && (await leasesLeft()) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    sender.close();
    await receiver.close();

    const events = await listEvents(ctx(), operator, { tenantId: t.tenantId, limit: 200 });
    expect(events.items).toHaveLength(20);
    expect(verified()).toEqual(new Set(events.items.map((e) => e.id)));
    expect(await pendingCount()).toBe(0);
    expect(await leasesLeft()).toBe(0);
  });
});
