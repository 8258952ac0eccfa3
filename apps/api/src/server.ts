import {
  type Database,
  dataDirFromEnv,
  ensureBootstrapToken,
  issueStartupAdminToken,
  openDatabase,
  useCaseContext,
} from "@arcadia/db";
import type { Config, Logger } from "@arcadia/runtime";
import { newApp } from "./app.ts";
import type { Services } from "./executor.ts";
import { listen } from "./listen.ts";

export interface RunningApi {
  readonly url: string;
  readonly database: Database;
  readonly services: Services;
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
 * Opens the database (PostgreSQL, or the embedded default), applies migrations, makes sure an admin
 * token exists, and serves the API. Prints where it listens and how to authenticate.
 */
export async function startApi(config: Config, logger: Logger, database?: Database): Promise<RunningApi> {
  const db =
    database ??
    (await openDatabase({
      url: config.databaseUrl ?? undefined,
      dataDir: config.dataDir ? dataDirFromEnv({ DATA_DIR: config.dataDir }) : undefined,
      onDriverMessage: (level, message) => logger[level]("database driver", { message }),
    }));
  logger.info(db.kind === "embedded" ? `embedded database at ${db.url}` : "connected to PostgreSQL", {
    database: db.kind,
    url: db.kind === "embedded" ? db.url : redact(db.url),
  });
  const services: Services = { orm: db.orm, now: () => new Date(), regions: config.regions, logger };
  const ctx = useCaseContext(db.orm.em.fork(), services.now, config.regions);
  if (config.bootstrapAdminToken) {
    await ensureBootstrapToken(ctx, config.bootstrapAdminToken);
    logger.info(
      "authenticate with the token in BOOTSTRAP_ADMIN_TOKEN: Authorization: Bearer $BOOTSTRAP_ADMIN_TOKEN",
    );
  } else {
    // Shown once, like every token secret, and valid until the next start-up generates another;
    // set BOOTSTRAP_ADMIN_TOKEN to choose a lasting one.
    const { secret } = await issueStartupAdminToken(ctx);
    logger.info(`generated a platform_admin token: Authorization: Bearer ${secret}`, { token: secret });
  }

  const app = newApp(services);
  const { server, port } = await listen(app, config.port, config.host);
  const url = `http://${config.host}:${port}`;
  logger.info(`listening on ${url}`, { url, docs: `${url}/docs` });

  return {
    url,
    database: db,
    services,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections?.();
      }),
  };
}
