import { createTestDatabase, type TestDatabase, testBackends } from "@arcadia/db/testing";
import { configFromEnv, createLogger } from "@arcadia/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "./server.ts";

describe.each(testBackends())("starting the API on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  /** Starts the API over the test database (as `pnpm api` would), returning its URL and log lines. */
  async function start(env: Record<string, string> = {}) {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("info", {}, (line) => lines.push(JSON.parse(line)));
    const api = await startApi(configFromEnv({ PORT: "0", ...env }), logger, {
      orm: db.orm,
      url: db.url,
      kind: "postgres",
      close: async () => {},
    });
    return { api, lines };
  }

  const plansWith = async (url: string, token: string) =>
    (await fetch(`${url}/api/v1/plans`, { headers: { authorization: `Bearer ${token}` } })).status;

  it("prints where it listens and a working admin token; a restart's token replaces it", async () => {
    const first = await start();
    const listening = first.lines.find((l) => String(l.msg).startsWith("listening on http://127.0.0.1:"));
    expect(listening?.url).toBe(first.api.url);
    const tokenOf = (lines: Record<string, unknown>[]) =>
      lines.find((l) => String(l.msg).startsWith("generated a platform_admin token"))?.token as string;
    const firstToken = tokenOf(first.lines);
    expect(firstToken).toMatch(/^arc_/);
    expect(await plansWith(first.api.url, firstToken)).toBe(200);
    await first.api.close();

    const second = await start();
    const secondToken = tokenOf(second.lines);
    expect(secondToken).not.toBe(firstToken);
    expect(await plansWith(second.api.url, secondToken)).toBe(200);
    expect(await plansWith(second.api.url, firstToken)).toBe(401);
    await second.api.close();
  });

  it("with BOOTSTRAP_ADMIN_TOKEN, makes that secret an admin token and generates none", async () => {
    const { api, lines } = await start({ BOOTSTRAP_ADMIN_TOKEN: "chosen-admin-secret" });
    expect(lines.some((l) => String(l.msg).startsWith("generated a platform_admin token"))).toBe(false);
    expect(JSON.stringify(lines)).not.toContain("chosen-admin-secret");
    expect(await plansWith(api.url, "chosen-admin-secret")).toBe(200);
    await api.close();
  });
});
