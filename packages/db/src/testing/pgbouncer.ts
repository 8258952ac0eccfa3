import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PgBouncer {
  /** postgres:// URL of the pooler, with `upstream`'s user and database. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The `pgbouncer` binary on PATH (or in /usr/sbin, where Debian puts it), or null. */
export function pgbouncerBinary(): string | null {
  for (const candidate of ["pgbouncer", "/usr/sbin/pgbouncer"]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * A private PgBouncer in transaction mode in front of `upstream`'s server (every database name is
 * passed through), from a temporary folder on a free loopback port: never the system service. The
 * same settings as `.ci/pgbouncer`. PgBouncer refuses to run as root, so under root it drops to
 * the `postgres` user.
 */
export async function startPgBouncer(
  upstream: string,
  options: { poolSize?: number; maxClients?: number } = {},
): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)");
  const target = new URL(upstream);
  const user = decodeURIComponent(target.username || "postgres");
  const folder = await mkdtemp(join(tmpdir(), "arcadia-pgbouncer-"));
  await chmod(folder, 0o755);
  const port = await freePort();
  await writeFile(join(folder, "users.txt"), `"${user}" ""\n`, { mode: 0o644 });
  await writeFile(
    join(folder, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${target.hostname} port=${target.port || 5432}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(folder, "users.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${options.poolSize ?? 10}`,
      `max_client_conn = ${options.maxClients ?? 400}`,
      "server_idle_timeout = 10",
      "ignore_startup_parameters = extra_float_digits",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ["-u", "postgres"] : [];
  let output = "";
  const child: ChildProcess = spawn(binary, [...args, join(folder, "pgbouncer.ini")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await rm(folder, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start: ${output.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = new URL(upstream);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}
