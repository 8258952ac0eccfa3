// `pnpm start` (API + in-process worker scheduler) and `pnpm api` (API only).
import { configFromEnvOrExit, createLogger, onShutdown } from "@arcadia/runtime";
import { startScheduler, startWebhookDelivery } from "@arcadia/worker";
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
  const webhooks = withScheduler
    ? startWebhookDelivery(api.database.orm, logger.child({ component: "webhooks" }), {
        allowPrivateNetworks: config.webhookAllowPrivateNetworks,
        metrics: api.metrics,
      })
    : null;
  // In-flight requests finish, the worker finishes (or rolls back) its batch and records the
  // webhook attempts in flight, then the database closes.
  onShutdown(logger, [
    () => api.close(),
    async () => scheduler?.stop(),
    async () => webhooks?.stop(),
    () => api.database.close(),
  ]);
} catch (error) {
  logger.error("failed to start", { err: error });
  process.exit(1);
}
