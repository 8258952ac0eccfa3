import type { Logger } from "./logger.ts";

/**
 * Runs the given closers once, in order, on SIGTERM or SIGINT, then exits. A second signal while
 * shutting down exits at once.
 */
export function onShutdown(logger: Logger, closers: (() => Promise<void>)[]): void {
  let shuttingDown = false;
  const handle = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn("second signal: exiting now", { signal });
      process.exit(1);
    }
    shuttingDown = true;
    logger.info("shutting down", { signal });
    (async () => {
      for (const close of closers) {
        try {
          await close();
        } catch (error) {
          logger.error("error while shutting down", { err: error });
        }
      }
      logger.info("stopped");
      process.exit(0);
    })();
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
