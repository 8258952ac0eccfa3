import { type Orm, pruneIdempotencyKeys, type RolloverSummary, runRolloverPass } from "@arcadia/db";
import type { Logger } from "@arcadia/runtime";
import { Cron } from "croner";

export interface PassOptions {
  readonly now: Date;
  readonly batchSize?: number;
  readonly concurrency?: number;
  readonly workerId?: string;
  readonly shouldStop?: () => boolean;
}

/** One rollover pass with progress logged every few seconds (processed, rate). */
export async function runPass(orm: Orm, logger: Logger, options: PassOptions): Promise<RolloverSummary> {
  const started = performance.now();
  let lastReport = started;
  const summary = await runRolloverPass(orm, {
    ...options,
    onBatch: (progress) => {
      const t = performance.now();
      if (t - lastReport < 5000) return;
      lastReport = t;
      const seconds = (t - started) / 1000;
      logger.info("rollover progress", {
        ...progress,
        perSecond: Math.round(progress.subscriptionsProcessed / seconds),
      });
    },
  });
  // Stored Idempotency-Key responses older than the replay window are of no further use.
  const prunedIdempotencyKeys = await pruneIdempotencyKeys(orm, options.now);
  logger.info("rollover pass complete", {
    ...summary,
    prunedIdempotencyKeys,
    now: options.now.toISOString(),
    ms: Math.round(performance.now() - started),
  });
  return summary;
}

export interface Scheduler {
  /** Stops scheduling; resolves when a pass in flight has finished its batch and returned. */
  stop(): Promise<void>;
}

/**
 * Runs a pass at every tick of the cron expression (never two at once in this process; other
 * processes may run theirs concurrently, which the claim protocol makes safe).
 */
export function startScheduler(
  orm: Orm,
  logger: Logger,
  options: { cron: string; batchSize?: number; concurrency?: number; workerId?: string },
): Scheduler {
  let stopping = false;
  let inFlight: Promise<unknown> | null = null;
  const job = new Cron(options.cron, { protect: true, timezone: "UTC" }, async () => {
    inFlight = runPass(orm, logger, {
      now: new Date(),
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      workerId: options.workerId,
      shouldStop: () => stopping,
    }).catch((error) => logger.error("rollover pass failed", { err: error }));
    await inFlight;
    inFlight = null;
  });
  logger.info("worker scheduler started", { cron: options.cron, next: job.nextRun()?.toISOString() ?? null });
  return {
    async stop() {
      stopping = true;
      job.stop();
      await inFlight;
    },
  };
}
