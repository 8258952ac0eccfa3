// Drill 9: 10,000 events to receivers that fail at random (500s and dropped connections); the
// retry schedule is walked with a drill clock (the 5-minute and longer waits would not fit in a
// drill), the sends are real HTTP on loopback. Every event must arrive at every endpoint, none lost.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookEndpoint, recordEvents, useCaseContext } from "@arcadia/db";
import { createTestDatabase, operator, TestClock, tenantFixture, waitForFanOut } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { createLogger } from "@arcadia/runtime";
import { createWebhookSender, deliverDueWebhooks } from "@arcadia/worker";

const EVENTS = Number(process.env.DRILL_WEBHOOK_EVENTS ?? 10_000);
/**
 * The drill's bound, in wall-clock time (never in rounds: how much a round does depends on the
 * machine). It stops as soon as nothing is pending, or when this runs out with deliveries still
 * pending, which fails it. 10,000 events take well under a minute on the 2-core CI machine.
 */
const BOUND_SECONDS = Number(process.env.DRILL_WEBHOOK_SECONDS ?? 300);
/** Chance that an attempt is answered 500, or has its connection dropped: 15% in all. */
const FAIL_500 = 0.1;
const FAIL_DROP = 0.05;

interface FlakyReceiver {
  readonly url: string;
  /** Event ids answered with a 2xx, with how many times each. */
  readonly delivered: Map<string, number>;
  attempts: number;
  close(): Promise<void>;
}

async function flakyReceiver(): Promise<FlakyReceiver> {
  const delivered = new Map<string, number>();
  const receiver = { delivered, attempts: 0 } as FlakyReceiver & { attempts: number };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      receiver.attempts += 1;
      const roll = Math.random();
      if (roll < FAIL_DROP) {
        req.socket.destroy();
        return;
      }
      if (roll < FAIL_DROP + FAIL_500) {
        res.writeHead(500).end();
        return;
      }
      const id = String(req.headers["webhook-id"]);
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export async function webhookDrill(log: (msg: string) => void) {
  const db = await createTestDatabase(process.env.TEST_DATABASE_URL ? "postgres" : "embedded");
  const clock = new TestClock(new Date());
  const receivers = [await flakyReceiver(), await flakyReceiver(), await flakyReceiver()];
  const sender = createWebhookSender({ allowPrivateNetworks: true, timeoutMs: 2000 });
  try {
    const ctx = () => useCaseContext(db.orm.em.fork(), clock.now, DEFAULT_REGIONS);
    const a = await tenantFixture(db.orm, clock);
    const b = await tenantFixture(db.orm, clock);
    // Tenant a's endpoint, tenant b's, and a platform-wide one that gets both.
    await createWebhookEndpoint(ctx(), a.admin, { url: receivers[0]!.url }, { allowPrivateNetworks: true });
    await createWebhookEndpoint(ctx(), b.admin, { url: receivers[1]!.url }, { allowPrivateNetworks: true });
    await createWebhookEndpoint(ctx(), operator, { url: receivers[2]!.url }, { allowPrivateNetworks: true });
    const ids = { a: [] as string[], b: [] as string[] };
    for (let done = 0; done < EVENTS; done += 500) {
      const batch = Array.from({ length: Math.min(500, EVENTS - done) }, (_, i) => {
        const tenant = (done + i) % 2 === 0 ? a : b;
        const id = ctx().newId();
        (tenant === a ? ids.a : ids.b).push(id);
        return {
          id,
          type: "deployment.updated" as const,
          tenantId: tenant.tenantId,
          occurredAt: clock.now(),
          data: { n: done + i },
        };
      });
      await db.orm.em.fork().transactional((em) => recordEvents(em, batch));
    }
    log(
      `${EVENTS} events recorded; delivering to 3 receivers failing ${Math.round((FAIL_500 + FAIL_DROP) * 100)}% of attempts`,
    );
    const logger = createLogger("error", {}, () => {});
    const started = performance.now();
    const deadline = started + BOUND_SECONDS * 1000;
    let rounds = 0;
    let timedOut = false;
    // Each round delivers whatever is due at the drill clock's instant; then the clock moves to the
    // next retry due. Stops when nothing is pending, or at the wall-clock bound.
    for (;;) {
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      rounds += 1;
      await waitForFanOut(db.orm);
      await deliverDueWebhooks(db.orm, sender, logger, { now: clock.now });
      const [next] = await db.orm.em.fork().getConnection().execute<{ next: string | null }[]>(
        // due: the later of its due time and a lease left behind (a recording that failed)
        "select min(greatest(next_attempt_at, leased_until))::text as next from webhook_deliveries where status = 'pending'",
      );
      if (!next?.next) break;
      const due = new Date(next.next);
      if (due > clock.now()) clock.set(due);
    }
    const seconds = (performance.now() - started) / 1000;
    const [counts] = await db.orm.em
      .fork()
      .getConnection()
      .execute<{ deliveries: number; failed: number; attempts: number }[]>(
        `select (select count(*) from webhook_deliveries)::int as deliveries,
                (select count(*) from webhook_deliveries where status <> 'succeeded')::int as failed,
                (select count(*) from webhook_attempts)::int as attempts`,
      );
    const missing = (receiver: FlakyReceiver, expected: string[]) =>
      expected.filter((id) => !receiver.delivered.has(id)).length;
    const duplicates = receivers.reduce(
      (sum, r) => sum + [...r.delivered.values()].filter((n) => n > 1).length,
      0,
    );
    return {
      events: EVENTS,
      expectedDeliveries: EVENTS * 2,
      deliveries: counts!.deliveries,
      notSucceeded: counts!.failed,
      attemptsLogged: counts!.attempts,
      attemptsReceived: receivers.reduce((sum, r) => sum + r.attempts, 0),
      missingA: missing(receivers[0]!, ids.a),
      missingB: missing(receivers[1]!, ids.b),
      missingPlatform: missing(receivers[2]!, [...ids.a, ...ids.b]),
      unexpected:
        [...receivers[0]!.delivered.keys()].filter((id) => !ids.a.includes(id)).length +
        [...receivers[1]!.delivered.keys()].filter((id) => !ids.b.includes(id)).length,
      duplicates,
      rounds,
      timedOut,
      boundSeconds: BOUND_SECONDS,
      seconds: Math.round(seconds),
    };
  } finally {
    sender.close();
    await Promise.all(receivers.map((r) => r.close()));
    await db.close();
  }
}
