// `pnpm --filter @arcadia/bench bench:webhooks:steps [events] [claim size] [record batch] [claim|lease]`:
// the dispatcher's database steps one at a time on a quiet, fresh database, each with the CPU it costs
// per delivery in PostgreSQL (its backend's, read from /proc: Linux and a local server only) and in
// this process. No HTTP: every attempt is recorded as answered 204. Figures that the throughput
// runs, where the receiver, the worker and PostgreSQL share the cores, cannot tell apart. `claim`
// (the default): the whole feed fanned out due, then claimed and recorded a claim at a time, as
// retries and a backlog queued for want of room are; `lease`: a page of the claim size fanned out
// and leased at once, then recorded, as the long-running loop sends a steady stream.
import {
  claimDueDeliveries,
  connect,
  createWebhookEndpoint,
  fanOutAndLease,
  fanOutEvents,
  migrateAndSeed,
  recordAttemptOutcomes,
  useCaseContext,
} from "@arcadia/db";
import { operator, seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { benchDatabaseUrl, processCpu } from "./machine.ts";
import { freshDatabase } from "./measured-run.ts";
import { recordBenchmarkEvents } from "./webhooks.ts";

const adminUrl = benchDatabaseUrl;
const events = Number(process.argv[2] ?? 20_000);
const claimSize = Number(process.argv[3] ?? 136);
const recordBatch = Number(process.argv[4] ?? 100);
const mode = process.argv[5] === "lease" ? "lease" : "claim";

const db = await freshDatabase(adminUrl, "steps");
try {
  const setup = await connect({ url: db.url });
  await migrateAndSeed(setup);
  const { tenantId } = await seedSubscriptions(setup, { count: 1, createdAt: new Date(), addonCodes: [] });
  await createWebhookEndpoint(
    useCaseContext(setup.em.fork(), () => new Date(), DEFAULT_REGIONS),
    operator,
    { url: "http://127.0.0.1:9/hooks", tenantId },
    { allowPrivateNetworks: true },
  );
  await recordBenchmarkEvents(setup, tenantId, events);
  await setup.close();

  // One connection, so that one backend does every step.
  const orm = await connect({ url: db.url, poolSize: 1 });
  const [backend] = await orm.em
    .fork()
    .getConnection()
    .execute<{ pid: number }[]>("select pg_backend_pid() as pid");
  const pid = backend!.pid;
  /** The backend's CPU time so far, in µs; null where /proc does not show it. */
  const backendCpu = (): number | null => {
    const cpu = processCpu(pid);
    return cpu === null ? null : cpu.seconds * 1e6;
  };
  const ownCpu = () => {
    const used = process.cpuUsage();
    return used.user + used.system;
  };
  const spent = { fanOut: [0, 0], claim: [0, 0], record: [0, 0] } as Record<string, [number, number]>;
  let postgresReadable = backendCpu() !== null;
  const measure = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const postgres = backendCpu();
    const own = ownCpu();
    const result = await work();
    const after = backendCpu();
    if (postgres === null || after === null) postgresReadable = false;
    else spent[step]![0] += after - postgres;
    spent[step]![1] += ownCpu() - own;
    return result;
  };

  const now = new Date();
  if (mode === "claim") while ((await measure("fanOut", () => fanOutEvents(orm, now))) > 0);
  // Claim (or fan out and lease) a batch, record it, again: the steady state of one endpoint's queue.
  let delivered = 0;
  for (;;) {
    const claimed =
      mode === "claim"
        ? await measure("claim", () =>
            claimDueDeliveries(orm, { now, limit: claimSize, perEndpoint: claimSize, leaseMs: 600_000 }),
          )
        : (
            await measure("fanOut", () =>
              fanOutAndLease(orm, now, {
                limit: claimSize,
                lease: { limit: claimSize, perEndpoint: claimSize, leaseMs: 600_000 },
              }),
            )
          ).leased;
    if (claimed.length === 0) break;
    for (let i = 0; i < claimed.length; i += recordBatch)
      await measure("record", () =>
        recordAttemptOutcomes(
          orm,
          claimed.slice(i, i + recordBatch).map((delivery) => ({
            delivery,
            attemptedAt: now,
            durationMs: 1,
            responseStatus: 204,
            error: null,
          })),
          now,
        ),
      );
    delivered += claimed.length;
    // Statistics as autovacuum's analyze keeps them in production (this machine runs without it):
    // the outcome's statement, planned once the table is no longer tiny, looks its deliveries up
    // by key (a plan made while the table held a few pages scans it; see ARCHITECTURE.md).
    if (mode === "lease" && delivered - claimed.length < 1000 && delivered >= 1000)
      await orm.em.fork().getConnection().execute("analyze webhook_deliveries");
  }
  await orm.close();
  const per = (us: number) => `${(us / delivered).toFixed(1)} µs`;
  console.log(
    `${delivered.toLocaleString("en")} deliveries, ${mode === "claim" ? "claims" : "fan-outs leasing"} of ${claimSize}, outcomes recorded ${recordBatch} a statement; CPU per delivery:`,
  );
  for (const [step, [postgres, own]] of Object.entries(spent))
    if (own > 0)
      console.log(
        `  ${step.padEnd(7)} PostgreSQL ${postgresReadable ? per(postgres) : "n/a"}, this process ${per(own)}`,
      );
} finally {
  await db.drop();
}
process.exit(0);
