import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashSecret, poolingOf } from "@arcadia/db";
import { createTestDatabase, type TestDatabase, testBackends } from "@arcadia/db/testing";
import { configFromEnv, createLogger } from "@arcadia/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "./server.ts";

type Line = Record<string, unknown>;
const tokenIn = (lines: Line[]) =>
  lines.find((l) => String(l.msg).includes("platform_admin token"))?.token as string | undefined;

describe.each(testBackends({ pooled: true }))("starting the API on %s", (backend) => {
  let db: TestDatabase;
  let folder: string;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    folder = await mkdtemp(join(tmpdir(), "arcadia-start-"));
  });
  afterAll(async () => {
    await db?.close();
    await rm(folder, { recursive: true, force: true });
  });

  /**
   * Starts the API over the test database, as `pnpm api` would; with `dataDir`, as if the database
   * lived in that folder (the embedded default). Returns the API and its log lines.
   */
  async function start(options: { env?: Record<string, string>; dataDir?: string } = {}) {
    const lines: Line[] = [];
    const logger = createLogger("info", {}, (line) => lines.push(JSON.parse(line)));
    const api = await startApi(configFromEnv({ PORT: "0", ...options.env }), logger, {
      orm: db.orm,
      url: db.url,
      kind: options.dataDir ? "embedded" : "postgres",
      pooling: poolingOf(db.orm),
      sessionUrl: null,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      close: async () => {},
    });
    return { api, lines };
  }

  const call = async (url: string, token: string, method = "GET", path = "/api/v1/plans") =>
    (await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })).status;

  it("prints where it listens and a working admin token", async () => {
    const { api, lines } = await start();
    const listening = lines.find((l) => String(l.msg).startsWith("listening on http://127.0.0.1:"));
    expect(listening?.url).toBe(api.url);
    const token = tokenIn(lines)!;
    expect(token).toMatch(/^arc_/);
    expect(await call(api.url, token)).toBe(200);
    await api.close();
  });

  it("keeps the generated token of a database in a folder across restarts, until it stops working", async () => {
    const dataDir = join(folder, "pglite");
    const first = await start({ dataDir });
    const token = tokenIn(first.lines)!;
    const file = `${dataDir}.admin-token`;
    expect((await readFile(file, "utf8")).trim()).toBe(token);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await first.api.close();

    const second = await start({ dataDir });
    expect(tokenIn(second.lines)).toBe(token);
    expect(await call(second.api.url, token)).toBe(200);
    // Revoked (here by itself), the kept token is replaced at the next start.
    const [row] = await db.orm.em
      .fork()
      .getConnection()
      .execute("select id from api_tokens where secret_hash = ?", [hashSecret(token)]);
    expect(await call(second.api.url, token, "DELETE", `/api/v1/tokens/${row!.id}`)).toBe(200);
    await second.api.close();

    const third = await start({ dataDir });
    const replacement = tokenIn(third.lines)!;
    expect(replacement).not.toBe(token);
    expect((await readFile(file, "utf8")).trim()).toBe(replacement);
    expect(await call(third.api.url, replacement)).toBe(200);
    await third.api.close();
  });

  it("with BOOTSTRAP_ADMIN_TOKEN, makes that secret an admin token, prints no other and no secret", async () => {
    const { api, lines } = await start({ env: { BOOTSTRAP_ADMIN_TOKEN: "chosen-admin-secret" } });
    expect(tokenIn(lines)).toBeUndefined();
    expect(JSON.stringify(lines)).not.toContain("chosen-admin-secret");
    expect(await call(api.url, "chosen-admin-secret")).toBe(200);
    await api.close();
  });
});
