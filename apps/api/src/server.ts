import { readFile, writeFile } from "node:fs/promises";
import {
  authenticate,
  type Database,
  dataDirFromEnv,
  ensureBootstrapToken,
  newSecret,
  openDatabase,
  poolStats,
  type UseCaseContext,
  useCaseContext,
} from "@arcadia/db";
import { type Config, type Logger, Metrics, type MetricsServer, serveMetrics } from "@arcadia/runtime";
import { newApp } from "./app.ts";
import { listen } from "./listen.ts";
import type { Services } from "./services.ts";

export interface RunningApi {
  readonly url: string;
  readonly database: Database;
  readonly services: Services;
  /** This process's metrics (the in-process scheduler records its passes here too). */
  readonly metrics: Metrics;
  /** Stops accepting connections and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/**
 * Without BOOTSTRAP_ADMIN_TOKEN: a platform_admin token to print. An embedded database keeps it in a
 * file beside its folder (readable by its owner only) and the next start-up prints the same one
 * while it still works, so restarts neither change the token nor pile up new ones. On PostgreSQL
 * there is no such folder: every start-up generates one (production sets BOOTSTRAP_ADMIN_TOKEN).
 */
async function generatedAdminToken(ctx: UseCaseContext, db: Database, logger: Logger): Promise<void> {
  const file = db.dataDir ? `${db.dataDir}.admin-token` : null;
  const kept = file ? (await readFile(file, "utf8").catch(() => "")).trim() : "";
  if (kept && (await authenticate(ctx, kept))?.role === "platform_admin") {
    logger.info(`platform_admin token (kept from an earlier start): Authorization: Bearer ${kept}`, {
      token: kept,
      savedIn: file,
    });
    return;
  }
  const secret = newSecret();
  await ensureBootstrapToken(ctx, secret);
  if (file) await writeFile(file, `${secret}\n`, { mode: 0o600 });
  logger.info(`generated a platform_admin token: Authorization: Bearer ${secret}`, {
    token: secret,
    ...(file ? { savedIn: file } : { hint: "set BOOTSTRAP_ADMIN_TOKEN to choose a lasting one" }),
  });
}

/**
 * Opens the database (PostgreSQL, or the embedded default), applies migrations, makes sure an admin
 * token exists, and serves the API. Prints where it listens and how to authenticate.
 */
export async function startApi(config: Config, logger: Logger, database?: Database): Promise<RunningApi> {
  const db =
    database ??
    (await openDatabase({
      url: config.databaseUrl ?? undefined,
      pooling: config.databasePooling,
      ...(config.directDatabaseUrl ? { directUrl: config.directDatabaseUrl } : {}),
      dataDir: config.dataDir ? dataDirFromEnv({ DATA_DIR: config.dataDir }) : undefined,
      onDriverMessage: (level, message) => logger[level]("database driver", { message }),
    }));
  logger.info(db.kind === "embedded" ? `embedded database at ${db.url}` : "connected to PostgreSQL", {
    database: db.kind,
    url: db.kind === "embedded" ? db.url : redact(db.url),
    ...(db.pooling === "none" ? {} : { pooling: db.pooling, listen: db.sessionUrl ? "direct" : "poll" }),
  });
  const metrics = new Metrics({ service: "api" });
  metrics.watchPool("main", () => poolStats(db.orm));
  const services: Services = {
    orm: db.orm,
    now: () => new Date(),
    regions: config.regions,
    logger,
    metrics,
    webhookAllowPrivateNetworks: config.webhookAllowPrivateNetworks,
    checkResponses: config.checkResponses,
  };
  const ctx = useCaseContext(db.orm.em.fork(), services.now, config.regions);
  if (config.bootstrapAdminToken) {
    await ensureBootstrapToken(ctx, config.bootstrapAdminToken);
    logger.info(
      "authenticate with the token in BOOTSTRAP_ADMIN_TOKEN: Authorization: Bearer $BOOTSTRAP_ADMIN_TOKEN",
    );
  } else {
    await generatedAdminToken(ctx, db, logger);
  }

  const app = newApp(services, { metricsRoute: config.metricsPort === null });
  let metricsServer: MetricsServer | null = null;
  if (config.metricsPort !== null) {
    metricsServer = await serveMetrics(metrics, config.metricsPort, config.host);
    logger.info(`metrics on http://${config.host}:${metricsServer.port}/metrics`, {
      metricsPort: metricsServer.port,
    });
  }
  const { server, port } = await listen(app, config.port, config.host, {
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  const url = `http://${config.host}:${port}`;
  logger.info(`listening on ${url}`, { url, docs: `${url}/docs` });

  return {
    url,
    database: db,
    services,
    metrics,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections?.();
      });
      await metricsServer?.close();
    },
  };
}
