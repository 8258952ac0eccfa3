import type { Server } from "node:http";
import { ensureBootstrapToken, newId, type Orm, useCaseContext } from "@arcadia/db";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import type { Logger } from "@arcadia/runtime";
import { newApp } from "../app.ts";
import { listen } from "../listen.ts";

/** The real app on a loopback port over an open database, with a fresh platform-admin token. */
export async function startHarnessServer(
  orm: Orm,
  logger: Logger,
): Promise<{ server: Server; url: string; adminToken: string }> {
  const adminToken = `drill-admin-${newId()}`;
  await ensureBootstrapToken(
    useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS),
    adminToken,
  );
  const app = newApp({ orm, now: () => new Date(), regions: DEFAULT_REGIONS, logger });
  const { server, port } = await listen(app, 0, "127.0.0.1");
  return { server, url: `http://127.0.0.1:${port}`, adminToken };
}
