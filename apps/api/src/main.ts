// `pnpm start` (API + in-process worker scheduler) and `pnpm api` (API only).
import { configFromEnvOrExit, createLogger, onShutdown } from "@arcadia/runtime";
import { startScheduler } from "@arcadia/worker";
import { startApi } from "./server.ts";

const config = configFromEnvOrExit("api");
const logger = createLogger(config.logLevel, { service: "api", pid: process.pid });
const withScheduler = process.argv.includes("--with-scheduler") && config.scheduler;

try {
  const api = await startApi(config, logger);
  const scheduler = withScheduler
    ? startScheduler(api.database.orm, logger.child({ component: "worker" }), {
        cron: config.workerCron,
        metrics: api.metrics,
      })
    : null;
  // In-flight requests finish, the worker finishes (or rolls back) its batch, then the database closes.
  onShutdown(logger, [() => api.close(), async () => scheduler?.stop(), () => api.database.close()]);
} catch (error) {
  logger.error("failed to start", { err: error });
  process.exit(1);
}
