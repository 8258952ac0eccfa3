// Drill 6: the production topology. Two API processes and two workers, all through a
// transaction-mode PgBouncer (DATABASE_POOLING=transaction), starting at once on an empty database;
// mixed writes and reads on both APIs; one API and one worker SIGKILLed and restarted during the
// load. Afterwards: every acknowledged write is present, every event chain is gap-free, exactly one
// invoice per (subscription, period), and keyed retries sent to the other API were replayed, not
// redone.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import {
  createTestDatabase,
  type PgBouncer,
  pgbouncerBinary,
  seedSubscriptions,
  startPgBouncer,
} from "@arcadia/db/testing";
import { workerProcessArgs } from "@arcadia/worker";

const apiDir = fileURLToPath(new URL("../..", import.meta.url));
const workerDir = fileURLToPath(new URL("../../../worker", import.meta.url));
const ADMIN_TOKEN = `drill-topology-${randomUUID()}`;
const CLIENTS = Number(process.env.DRILL_TOPOLOGY_CLIENTS ?? 8);
const LOAD_MS = Number(process.env.DRILL_TOPOLOGY_MS ?? 20_000);
const SUBSCRIPTIONS = Number(process.env.DRILL_TOPOLOGY_SUBSCRIPTIONS ?? 4000);

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnProcess(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string) => void,
): Proc {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      onLine?.(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  });
  child.stderr!.resume();
  return { child, exited: new Promise((resolve) => child.once("exit", () => resolve())) };
}

/** `pnpm api` on a free port; resolves with its URL once it prints `listening on`. */
async function startApiProcess(
  env: Record<string, string>,
  errors: string[],
): Promise<Proc & { url: string }> {
  let resolveUrl: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  const proc = spawnProcess(
    apiDir,
    ["--import", "tsx", "src/main.ts"],
    { ...env, PORT: "0", BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN },
    (line) => {
      const match = line.match(/listening on (http:\/\/[0-9.:]+)/);
      if (match) resolveUrl(match[1]!);
      if (line.includes('"level":"error"')) errors.push(line.slice(0, 300));
    },
  );
  const url = await Promise.race([
    listening,
    proc.exited.then(() => {
      throw new Error("an API process exited before listening");
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("an API process did not start in 60 s")), 60_000),
    ),
  ]);
  return { ...proc, url };
}

function startWorkerProcess(env: Record<string, string>): Proc {
  // A pass every second, so passes run (and are killed) during the load.
  return spawnProcess(workerDir, workerProcessArgs("--batch-size", "50"), {
    ...env,
    WORKER_CRON: "* * * * * *",
    LOG_LEVEL: "warn",
  });
}

async function kill(proc: Proc): Promise<void> {
  proc.child.kill("SIGKILL");
  await proc.exited;
}

async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill("SIGTERM");
  await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (proc.child.exitCode === null && proc.child.signalCode === null) await kill(proc);
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: drills read arbitrary JSON
  body: any;
  text: string;
  replayed: boolean;
}

async function call(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  key?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (key) headers["idempotency-key"] = key;
  const response = await fetch(url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    text,
    replayed: response.headers.get("idempotent-replayed") === "true",
  };
}

const monthStart = (d: Date, offset = 0) =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));

export async function topologyDrill(log: (msg: string) => void) {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { skipped: "TEST_DATABASE_URL is not set" } as const;
  let bouncer: PgBouncer | null = null;
  let pooledServer = process.env.TEST_POOLED_DATABASE_URL;
  if (!pooledServer) {
    if (!pgbouncerBinary())
      return { skipped: "pgbouncer is not installed and TEST_POOLED_DATABASE_URL is not set" } as const;
    bouncer = await startPgBouncer(adminUrl);
    pooledServer = bouncer.url;
  }
  const db = await createTestDatabase("postgres", { migrate: false, poolSize: 4 });
  const pooled = new URL(pooledServer);
  pooled.pathname = new URL(db.url).pathname;
  const pooledEnv = { DATABASE_URL: pooled.toString(), DATABASE_POOLING: "transaction" };
  const processes: Proc[] = [];
  const serverLogErrors: string[] = [];
  const started = Date.now();
  try {
    // Everything starts at once on an empty database: the migration lock through the pooler.
    // API 0 has DIRECT_DATABASE_URL (migrates past the pooler); API 1 and the workers do not.
    const workers = [startWorkerProcess(pooledEnv), startWorkerProcess(pooledEnv)];
    processes.push(...workers);
    const [api0, api1] = await Promise.all([
      startApiProcess({ ...pooledEnv, DIRECT_DATABASE_URL: db.url }, serverLogErrors),
      startApiProcess(pooledEnv, serverLogErrors),
    ]);
    const apis = [api0, api1];
    processes.push(api0, api1);
    log(`two APIs and two workers up through PgBouncer in ${Date.now() - started} ms`);

    // Subscriptions with four months due, for the workers (a pass a second) to bill under the load.
    const now = new Date();
    const createdAt = new Date(monthStart(now, -4).getTime() + 14 * 86_400_000);
    await seedSubscriptions(db.orm, { count: SUBSCRIPTIONS, createdAt, addonCodes: ["storage_50gb"] });

    const tenant = await call(api0.url, "POST", "/api/v1/tenants", ADMIN_TOKEN, {
      slug: `topology-${Date.now()}`,
      name: "topology",
    });
    if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${tenant.text}`);
    const token = await call(api1.url, "POST", "/api/v1/tokens", ADMIN_TOKEN, {
      role: "tenant_admin",
      tenantId: tenant.body.id,
      name: "drill",
    });
    if (token.status !== 201) throw new Error(`token: ${token.status} ${token.text}`);
    const secret = token.body.token as string;

    const stats = {
      requests: 0,
      reads: 0,
      acknowledgedWrites: 0,
      unanswered: 0,
      serverErrors: 0,
      replaysAsked: 0,
      replaysMatched: 0,
      retriedAfterKill: 0,
    };
    const deployments = new Map<string, { state: string; transitions: number; subscribed: boolean }>();
    const events = new Set<string>();
    const replayMismatches: string[] = [];
    const subscriptions = new Set<string>();
    const loadStarted = Date.now();
    const end = loadStarted + LOAD_MS;

    /**
     * A keyed write to `first`; without an answer (its process killed), the same key goes to the
     * other API, as a client behind a load balancer would retry. An acknowledged answer is then
     * sometimes sent again to the other API: it must be replayed: the same status and body, marked `Idempotent-Replayed`.
     */
    const keyedWrite = async (first: number, path: string, body: unknown): Promise<Answer | null> => {
      const key = randomUUID();
      let answer: Answer | null = null;
      let at = first;
      for (let attempt = 0; attempt < 4 && !answer; attempt++) {
        try {
          stats.requests += 1;
          answer = await call(apis[at]!.url, "POST", path, secret, body, key);
        } catch {
          stats.unanswered += 1;
          if (attempt === 0) stats.retriedAfterKill += 1;
          at = 1 - at;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!answer) throw new Error(`no API answered ${path}`);
      if (answer.status >= 500) stats.serverErrors += 1;
      if (answer.status >= 300) return answer;
      stats.acknowledgedWrites += 1;
      if (Math.random() < 0.3) {
        stats.replaysAsked += 1;
        try {
          stats.requests += 1;
          const again = await call(apis[1 - at]!.url, "POST", path, secret, body, key);
          // The same answer (as JSON: the stored copy is jsonb, whose key order differs).
          if (
            again.status === answer.status &&
            again.replayed &&
            isDeepStrictEqual(again.body, answer.body)
          ) {
            stats.replaysMatched += 1;
          } else {
            replayMismatches.push(`${path}: ${answer.status} → ${again.status}, replayed ${again.replayed}`);
          }
        } catch {
          stats.replaysAsked -= 1; // the other API is being restarted: not a replay asked
        }
      }
      return answer;
    };

    const client = async (n: number) => {
      const mine: string[] = [];
      let turn = n;
      while (Date.now() < end) {
        turn += 1;
        const api = turn % 2;
        const r = Math.random();
        if (mine.length === 0 || r < 0.12) {
          const a = await keyedWrite(api, "/api/v1/deployments", {
            slug: `c${n}-${randomUUID().slice(0, 8)}`,
            displayName: "drill",
            region: "au-syd",
          });
          if (a?.status === 201) {
            deployments.set(a.body.id, { state: a.body.state, transitions: 0, subscribed: false });
            mine.push(a.body.id);
          }
        } else if (r < 0.45) {
          const id = mine[Math.floor(Math.random() * mine.length)]!;
          const d = deployments.get(id)!;
          const a = await keyedWrite(api, `/api/v1/deployments/${id}/transition`, {
            to: d.state === "active" ? "paused" : "active",
          });
          if (a?.status === 200) {
            d.state = a.body.deployment.state;
            d.transitions += 1;
            events.add(`${id}/${a.body.event.sequence}`);
          }
        } else if (r < 0.52) {
          const id = mine.find((m) => !deployments.get(m)!.subscribed);
          if (!id) continue;
          const a = await keyedWrite(api, `/api/v1/deployments/${id}/subscribe`, { planCode: "studio" });
          if (a?.status === 201) {
            deployments.get(id)!.subscribed = true;
            subscriptions.add(a.body.id);
          }
        } else {
          const id = mine[Math.floor(Math.random() * mine.length)]!;
          try {
            stats.requests += 1;
            const a = await call(apis[api]!.url, "GET", `/api/v1/deployments/${id}`, secret);
            stats.reads += 1;
            if (a.status >= 500) stats.serverErrors += 1;
          } catch {
            stats.unanswered += 1;
          }
        }
      }
    };

    const count = async (sql: string) => Number((await db.orm.em.fork().getConnection().execute(sql))[0]!.n);
    const chaos = (async () => {
      // A worker dies once it has billed something, mid-pass; it is restarted at once.
      const deadline = Date.now() + 60_000;
      while ((await count("select count(*) as n from statements")) === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 200)));
      await kill(workers[0]!);
      const billedAtKill = await count("select count(*) as n from statements");
      workers[0] = startWorkerProcess(pooledEnv);
      processes.push(workers[0]);
      log(`worker SIGKILLed with ${billedAtKill} invoices billed, restarted`);
      // An API dies under load a third of the way in; the clients' retries go to the other one.
      await new Promise((r) => setTimeout(r, Math.max(0, loadStarted + LOAD_MS / 3 - Date.now())));
      await kill(apis[1]!);
      log("API 1 SIGKILLed under load");
      const restarted = await startApiProcess(pooledEnv, serverLogErrors);
      apis[1] = restarted;
      processes.push(restarted);
      log(`API 1 restarted (${restarted.url})`);
      return billedAtKill;
    })();
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    const billedAtKill = await chaos;
    const loadMs = Date.now() - loadStarted;

    for (const proc of [...apis, ...workers]) await stop(proc);
    // Whatever is still due is billed by one more pass (through the pooler), then checked.
    const finalPass = spawnProcess(
      workerDir,
      workerProcessArgs("--once", "--now", new Date().toISOString()),
      {
        ...pooledEnv,
        LOG_LEVEL: "error",
      },
    );
    await finalPass.exited;
    const months = Math.round(
      (monthStart(new Date()).getTime() - monthStart(createdAt).getTime()) / (30.4 * 86_400_000),
    );

    const present = async (table: string, ids: string[]) =>
      ids.length === 0
        ? 0
        : count(`select count(*) as n from ${table} where id in (${ids.map((id) => `'${id}'`).join(",")})`);
    const eventPairs = [...events].map((e) => e.split("/"));
    const presentEvents = eventPairs.length
      ? await count(
          `select count(*) as n from deployment_events e join (values ${eventPairs.map(([d, s]) => `('${d}'::uuid, ${s})`).join(",")}) v(d, s) on e.deployment_id = v.d and e.sequence = v.s`,
        )
      : 0;
    // Each deployment: its creation plus exactly the transitions acknowledged (no retry redone).
    const expectedEvents = [...deployments.values()].reduce((sum, d) => sum + 1 + d.transitions, 0);
    const drillEvents = deployments.size
      ? await count(
          `select count(*) as n from deployment_events where deployment_id in (${[...deployments.keys()].map((id) => `'${id}'`).join(",")})`,
        )
      : 0;
    return {
      apis: 2,
      workers: 2,
      clients: CLIENTS,
      loadMs,
      ...stats,
      billedAtWorkerKill: billedAtKill,
      deploymentsAcknowledged: deployments.size,
      deploymentsMissing: deployments.size - (await present("deployments", [...deployments.keys()])),
      eventsAcknowledged: events.size,
      eventsMissing: events.size - presentEvents,
      subscriptionsAcknowledged: subscriptions.size,
      subscriptionsMissing: subscriptions.size - (await present("subscriptions", [...subscriptions])),
      eventsRedone: drillEvents - expectedEvents,
      chainsWithGaps: await count(
        `select count(*) as n from deployments d where d.last_event_sequence <> (select count(*) from deployment_events e where e.deployment_id = d.id)
           or exists (select 1 from deployment_events e where e.deployment_id = d.id and (e.sequence < 1 or e.sequence > d.last_event_sequence))`,
      ),
      invoices: await count("select count(*) as n from statements"),
      expectedInvoices: SUBSCRIPTIONS * months,
      duplicateInvoices: await count(
        "select count(*) as n from (select 1 from statements group by subscription_id, period_start having count(*) > 1) x",
      ),
      finalPassExit: finalPass.child.exitCode,
      serverLogErrors: serverLogErrors.length,
      firstServerLogError: serverLogErrors[0] ?? null,
      replayMismatches: replayMismatches.slice(0, 3),
    };
  } finally {
    await Promise.all(processes.map((proc) => stop(proc)));
    await db.close();
    await bouncer?.stop();
  }
}
