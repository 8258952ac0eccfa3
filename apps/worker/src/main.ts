// `pnpm worker` (scheduler) and `pnpm worker --once [--now <ISO instant>]` (one pass, summary, exit 0);
// `--batch-size N` and `--concurrency N` (batches in flight at once) tune either.

import { parseArgs } from "node:util";
import { dataDirFromEnv, openDatabase } from "@arcadia/db";
import { configFromEnv, createLogger, onShutdown } from "@arcadia/runtime";
import { runPass, startScheduler } from "./scheduler.ts";

const { values } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    now: { type: "string" },
    "batch-size": { type: "string" },
    concurrency: { type: "string" },
  },
  strict: true,
});

const config = configFromEnv();
const logger = createLogger(config.logLevel, { service: "worker", pid: process.pid });
const now = values.now ? new Date(values.now) : new Date();
if (Number.isNaN(now.getTime())) {
  logger.error("--now must be an ISO-8601 instant, e.g. 2027-01-01T00:00:00Z", { now: values.now });
  process.exit(2);
}
function positive(flag: "batch-size" | "concurrency"): number | undefined {
  const value = values[flag] ? Number(values[flag]) : undefined;
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    logger.error(`--${flag} must be a positive whole number`);
    process.exit(2);
  }
  return value;
}
const batchSize = positive("batch-size");
const concurrency = positive("concurrency");

const database = await openDatabase({
  url: config.databaseUrl ?? undefined,
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
      statementsIssued: summary.statementsIssued,
      totalsByCurrency: summary.totalsByCurrency,
      trialsConverted: summary.trialsConverted,
      skippedByOverride: summary.skippedByOverride,
      subscriptionsProcessed: summary.subscriptionsProcessed,
    })}\n`,
  );
  await database.close();
  process.exit(0);
} else {
  const scheduler = startScheduler(database.orm, logger, {
    cron: config.workerCron,
    batchSize,
    concurrency,
    workerId,
  });
  onShutdown(logger, [() => scheduler.stop(), () => database.close()]);
}
