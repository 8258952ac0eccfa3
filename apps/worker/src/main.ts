// `pnpm worker` (scheduler) and `pnpm worker --once [--now <ISO instant>]` (one pass, summary, exit 0);
// `--batch-size N` and `--concurrency N` (batches in flight at once) tune either.

import { parseArgs } from "node:util";
import { dataDirFromEnv, openDatabase, poolStats } from "@arcadia/db";
import { configFromEnvOrExit, createLogger, Metrics, onShutdown, serveMetrics } from "@arcadia/runtime";
import { z } from "zod";
import { runPass, startScheduler } from "./scheduler.ts";
import { startWebhookDelivery } from "./webhooks/index.ts";

const USAGE = "usage: pnpm worker [--once] [--now <ISO-8601 instant>] [--batch-size N] [--concurrency N]";
/**
 * An instant with no doubt about its time zone, on a date that exists: a UTC date, or a date and
 * time with Z or an offset (zod's ISO checks; `Date` alone reads a zone-less time as local and rolls
 * 2026-02-30 over into March).
 */
const ISO_INSTANT = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const config = configFromEnvOrExit("worker");
const logger = createLogger(config.logLevel, { service: "worker", pid: process.pid });

/** A refused command line: one error line saying what is wrong and how to call, exit 2. */
function refuse(message: string, fields: Record<string, unknown> = {}): never {
  logger.error(message, { ...fields, usage: USAGE });
  process.exit(2);
}

let values: { once?: boolean; now?: string; "batch-size"?: string; concurrency?: string };
try {
  ({ values } = parseArgs({
    options: {
      once: { type: "boolean", default: false },
      now: { type: "string" },
      "batch-size": { type: "string" },
      concurrency: { type: "string" },
    },
    strict: true,
  }));
} catch (error) {
  refuse(error instanceof Error ? error.message : String(error));
}
const now = values.now ? new Date(values.now) : new Date();
if (values.now !== undefined && !ISO_INSTANT.safeParse(values.now).success) {
  refuse("--now must be an ISO-8601 instant with its time zone, e.g. 2027-01-01T00:00:00Z", {
    now: values.now,
  });
}
function positive(flag: "batch-size" | "concurrency"): number | undefined {
  const value = values[flag] ? Number(values[flag]) : undefined;
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    refuse(`--${flag} must be a positive whole number`, { [flag]: values[flag] });
  }
  return value;
}
const batchSize = positive("batch-size");
const concurrency = positive("concurrency");

const database = await openDatabase({
  url: config.databaseUrl ?? undefined,
  pooling: config.databasePooling,
  ...(config.directDatabaseUrl ? { directUrl: config.directDatabaseUrl } : {}),
  dataDir: config.dataDir ? dataDirFromEnv() : undefined,
  onDriverMessage: (level, message) => logger[level]("database driver", { message }),
});
const workerId = `billing-worker`;

if (values.once) {
  let stopping = false;
  onShutdown(logger, [
    async () => {
      stopping = true;
    },
  ]);
  const summary = await runPass(database.orm, logger, {
    now,
    batchSize,
    concurrency,
    workerId,
    shouldStop: () => stopping,
  });
  process.stdout.write(
    `${JSON.stringify({
      msg: "rollover summary",
      now: now.toISOString(),
      invoicesIssued: summary.invoicesIssued,
      totalsByCurrency: summary.totalsByCurrency,
      trialsConverted: summary.trialsConverted,
      skippedByOverride: summary.skippedByOverride,
      subscriptionsProcessed: summary.subscriptionsProcessed,
      collection: {
        charges: summary.collection.charges,
        reconciled: summary.collection.reconciled,
        transitions: summary.collection.transitions,
        skipped: summary.collection.skipped,
        deploymentsProcessed: summary.collection.deploymentsProcessed,
      },
    })}\n`,
  );
  await database.close();
  process.exit(0);
} else {
  // A worker serves no API: its metrics are on METRICS_PORT or nowhere.
  const metrics = new Metrics({ service: "worker" });
  metrics.watchPool("main", () => poolStats(database.orm));
  const metricsServer =
    config.metricsPort === null ? null : await serveMetrics(metrics, config.metricsPort, config.host);
  if (metricsServer) logger.info(`metrics on http://${config.host}:${metricsServer.port}/metrics`);
  const scheduler = startScheduler(database.orm, logger, {
    cron: config.workerCron,
    batchSize,
    concurrency,
    workerId,
    metrics,
  });
  const webhooks = startWebhookDelivery(database.orm, logger.child({ component: "webhooks" }), {
    allowPrivateNetworks: config.webhookAllowPrivateNetworks,
    metrics,
  });
  onShutdown(logger, [
    () => scheduler.stop(),
    () => webhooks.stop(),
    async () => metricsServer?.close(),
    () => database.close(),
  ]);
}
