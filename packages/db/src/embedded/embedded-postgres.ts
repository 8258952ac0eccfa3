import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PgliteServer } from "./pglite-server.ts";

export interface EmbeddedPostgres {
  /** postgres:// URL on loopback that any PostgreSQL client can use while this process runs. */
  readonly url: string;
  /** False when another live process already serves this data folder and we only connected to it. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder for the data; omit for an in-memory database (tests). */
  readonly dataDir?: string;
  readonly host?: string;
  /** Preferred port; when taken, the OS picks one. 0 always lets the OS pick. */
  readonly port?: number;
}

interface LockFile {
  pid: number;
  url: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * PGlite (PostgreSQL compiled to WebAssembly) keeping its data in a folder, served on a loopback
 * port through pglite-socket so the ordinary PostgreSQL driver, `pnpm worker` and psql reach it.
 * One process owns a data folder; another that asks for the same folder gets the owner's URL.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const host = options.host ?? "127.0.0.1";
  const lockPath = options.dataDir ? join(options.dataDir, "arcadia-server.json") : null;
  if (lockPath && existsSync(lockPath)) {
    const lock = JSON.parse(readFileSync(lockPath, "utf8")) as LockFile;
    if (lock.pid !== process.pid && processAlive(lock.pid)) {
      return { url: lock.url, owned: false, stop: async () => {} };
    }
  }
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ? join(options.dataDir, "pgdata") : undefined);
  const server = new PgliteServer(db);
  const port = await listen(server, host, options.port ?? 0);
  const url = `postgres://postgres@${host}:${port}/postgres`;
  if (lockPath) writeFileSync(lockPath, JSON.stringify({ pid: process.pid, url } satisfies LockFile));

  let stopped = false;
  return {
    url,
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await db.close();
      if (lockPath) rmSync(lockPath, { force: true });
    },
  };
}

async function listen(server: PgliteServer, host: string, port: number): Promise<number> {
  try {
    return await server.listen(port, host);
  } catch (error) {
    if (port === 0 || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return server.listen(0, host);
  }
}
