// Drill 3: PostgreSQL stopped and started under load. The drill starts its own instance (initdb
// into a temporary folder, its own port) — never the machine's shared server.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "@arcadia/db";
import { createLogger } from "@arcadia/runtime";
import { startHarnessServer } from "./support.ts";

export interface OutageResult {
  requests: number;
  acknowledgedWrites: number;
  lostWrites: number;
  failedCleanly: number;
  serverErrorsWithoutJson: number;
  readyzDuringOutage: number[];
  recoveredAfterMs: number;
  /** Warnings the database driver raised, delivered to the logger hook rather than the console. */
  driverMessages: number;
}

function pgBin(name: string): string {
  const versions = readdirSync("/usr/lib/postgresql").sort();
  return join("/usr/lib/postgresql", versions.at(-1)!, "bin", name);
}

function asPostgres(cmd: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  return execFileSync(asRoot ? "runuser" : cmd, asRoot ? ["-u", "postgres", "--", cmd, ...args] : args, {
    encoding: "utf8",
    stdio: "pipe",
  });
}

export async function postgresOutageDrill(log: (msg: string) => void): Promise<OutageResult> {
  const dir = mkdtempSync(join(tmpdir(), "arcadia-outage-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = 56000 + Math.floor(Math.random() * 2000);
  asPostgres(pgBin("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const pgctl = (action: string, extra: string[] = []) =>
    asPostgres(pgBin("pg_ctl"), [
      action,
      "-D",
      data,
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      ...extra,
    ]);
  pgctl("start", ["-l", join(dir, "log")]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: Server | null = null;
  let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
  let driverMessages = 0;
  try {
    // The driver's own warnings ("Connection Error: …") are counted here, as the API's logger would
    // receive them, instead of going to the console.
    db = await openDatabase({ url, onDriverMessage: () => (driverMessages += 1) });
    const started = await startHarnessServer(db.orm, createLogger("silent"));
    server = started.server;
    const base = started.url;
    const token = started.adminToken;
    const tenant = await (
      await fetch(`${base}/api/v1/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ slug: "outage", name: "Outage" }),
      })
    ).json();

    const acknowledged: string[] = [];
    let requests = 0;
    let failedCleanly = 0;
    let serverErrorsWithoutJson = 0;
    let stop = false;
    const worker = async (lane: number) => {
      let i = 0;
      while (!stop) {
        requests += 1;
        try {
          const r = await fetch(`${base}/api/v1/deployments`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({
              slug: `l${lane}-${i++}`,
              displayName: "x",
              region: "au-syd",
              tenantId: tenant.id,
            }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = await r.json().catch(() => null);
          if (r.status === 201) acknowledged.push(body.id);
          else if (r.status >= 500) {
            if (body?.error?.code === "INTERNAL") failedCleanly += 1;
            else serverErrorsWithoutJson += 1;
          }
        } catch {
          failedCleanly += 1; // timed out while the database was away: no answer, nothing acknowledged
        }
        await new Promise((res) => setTimeout(res, 5));
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => worker(lane));
    await new Promise((res) => setTimeout(res, 1500));
    log("stopping PostgreSQL under load");
    pgctl("stop", ["-m", "fast"]);
    const readyzDuringOutage: number[] = [];
    for (let k = 0; k < 5; k++) {
      readyzDuringOutage.push((await fetch(`${base}/readyz`)).status);
      await new Promise((res) => setTimeout(res, 300));
    }
    log("starting PostgreSQL again");
    pgctl("start", ["-l", join(dir, "log")]);
    const restartedAt = performance.now();
    let recoveredAfterMs = -1;
    while (performance.now() - restartedAt < 30_000) {
      if ((await fetch(`${base}/readyz`)).status === 200) {
        recoveredAfterMs = Math.round(performance.now() - restartedAt);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 1500));
    stop = true;
    await Promise.all(lanes);
    const rows = await db.orm.em
      .fork()
      .getConnection()
      .execute(
        "select id from deployments where id in (select value::uuid from jsonb_array_elements_text(?::jsonb))",
        [JSON.stringify(acknowledged)],
      );
    return {
      requests,
      acknowledgedWrites: acknowledged.length,
      lostWrites: acknowledged.length - rows.length,
      failedCleanly,
      serverErrorsWithoutJson,
      readyzDuringOutage,
      recoveredAfterMs,
      driverMessages,
    };
  } finally {
    if (server) await new Promise<void>((res) => server!.close(() => res()));
    await db?.close().catch(() => {});
    try {
      pgctl("stop", ["-m", "immediate"]);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
