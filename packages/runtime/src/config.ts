import { DEFAULT_REGIONS } from "@arcadia/domain";
import { createLogger, LOG_LEVELS, type LogLevel } from "./logger.ts";

export interface Config {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL URL; null means the embedded database. */
  readonly databaseUrl: string | null;
  /**
   * `DATABASE_POOLING`: `transaction` when DATABASE_URL goes through a transaction-mode pooler
   * (PgBouncer): no named prepared queries, no session-level locks or settings; migrations and
   * LISTEN over `DIRECT_DATABASE_URL` when given. `none` (default): direct connections.
   */
  readonly databasePooling: "none" | "transaction";
  /** `DIRECT_DATABASE_URL`: the same database past the pooler (only read with pooling). */
  readonly directDatabaseUrl: string | null;
  /** Embedded database folder (relative to where the command was typed), or null for the default. */
  readonly dataDir: string | null;
  readonly bootstrapAdminToken: string | null;
  readonly scheduler: boolean;
  readonly workerCron: string;
  readonly logLevel: LogLevel;
  readonly regions: readonly string[];
  /**
   * `METRICS_PORT`: serve `GET /metrics` on this port of its own, without authentication (for a
   * private scrape network; the only way a `pnpm worker` exposes them). Unset: the API serves
   * `/metrics` on its own port to platform_admin bearer tokens.
   */
  readonly metricsPort: number | null;
  /**
   * `HTTP_KEEP_ALIVE_TIMEOUT_MS` (default 65 000): how long the API keeps an idle client connection
   * open. Longer than a load balancer's idle timeout (60 s for most), so the balancer, not the
   * server, closes an idle connection and never reuses one the server just closed (a reset).
   */
  readonly keepAliveTimeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhooks may go to http:// and private addresses (development, tests). */
  readonly webhookAllowPrivateNetworks: boolean;
  /**
   * `CHECK_RESPONSES` (`true`/`false`): check every API response against its schema before sending
   * it. Default: on, except with `NODE_ENV=production` (tests hold every operation's output to its
   * schema; in production the check only costs time).
   */
  readonly checkResponses: boolean;
}

/** Every setting the processes read, from the environment, with the SPEC's defaults. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : null;
  if (metricsPort !== null && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535))
    throw new Error(`METRICS_PORT must be a port number, got ${env.METRICS_PORT}`);
  const keepAliveTimeoutMs = Number(env.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 65_000);
  if (!Number.isInteger(keepAliveTimeoutMs) || keepAliveTimeoutMs < 1000)
    throw new Error(
      `HTTP_KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds ≥ 1000, got ${env.HTTP_KEEP_ALIVE_TIMEOUT_MS}`,
    );
  const logLevel = (env.LOG_LEVEL ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const databasePooling = (env.DATABASE_POOLING || "none").toLowerCase();
  if (databasePooling !== "none" && databasePooling !== "transaction")
    throw new Error(`DATABASE_POOLING must be none or transaction, got ${env.DATABASE_POOLING}`);
  if (databasePooling === "transaction" && !env.DATABASE_URL)
    throw new Error("DATABASE_POOLING=transaction needs DATABASE_URL (the pooler's address)");
  const regions = env.REGIONS
    ? env.REGIONS.split(",")
        .map((r) => r.trim())
        .filter(Boolean)
    : [...DEFAULT_REGIONS];
  return {
    port,
    host: env.HOST || "127.0.0.1",
    databaseUrl: env.DATABASE_URL || null,
    databasePooling,
    directDatabaseUrl: env.DIRECT_DATABASE_URL || null,
    dataDir: env.DATA_DIR || null,
    bootstrapAdminToken: env.BOOTSTRAP_ADMIN_TOKEN || null,
    scheduler: (env.SCHEDULER ?? "on").toLowerCase() !== "off",
    // Every five minutes by default: a due period is closed within minutes of its end.
    workerCron: env.WORKER_CRON || "*/5 * * * *",
    logLevel,
    regions,
    metricsPort,
    keepAliveTimeoutMs,
    webhookAllowPrivateNetworks: (env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? "").toLowerCase() === "true",
    checkResponses: env.CHECK_RESPONSES
      ? env.CHECK_RESPONSES.toLowerCase() === "true"
      : env.NODE_ENV !== "production",
  };
}

/**
 * The configuration of a process that cannot run without one: a bad setting (`PORT=abc`,
 * `LOG_LEVEL=loud`) is one JSON error line naming it, and exit code 2, not a stack trace.
 */
export function configFromEnvOrExit(service: string, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return configFromEnv(env);
  } catch (error) {
    createLogger("error", { service, pid: process.pid }).error(
      error instanceof Error ? error.message : String(error),
    );
    process.exit(2);
  }
}
