import {
  type CollectionSummary,
  defaultPaymentProviders,
  type Orm,
  type PaymentProviders,
  pruneEvents,
  pruneIdempotencyKeys,
  type RolloverSummary,
  runCollectionPass,
  runRolloverPass,
} from "@arcadia/db";
import type { Logger, Metrics } from "@arcadia/runtime";
import { Cron } from "croner";

export interface PassOptions {
  readonly now: Date;
  readonly batchSize?: number;
  readonly concurrency?: number;
  readonly workerId?: string;
  readonly shouldStop?: () => boolean;
  /** Where the pass's duration and counts go (`arcadia_worker_*`). */
  readonly metrics?: Metrics;
  /** Payment providers for collection (the built-in sandbox by default). */
  readonly providers?: PaymentProviders;
}

export interface WorkerPassSummary extends RolloverSummary {
  readonly collection: CollectionSummary;
}

/** One collection pass at `now` (charges, reconciliation, the dunning ladder), logged. */
export async function runCollection(
  orm: Orm,
  logger: Logger,
  options: Omit<PassOptions, "workerId">,
): Promise<CollectionSummary> {
  const started = performance.now();
  let summary: CollectionSummary;
  try {
    summary = await runCollectionPass(orm, {
      now: options.now,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      shouldStop: options.shouldStop,
      providers: options.providers ?? defaultPaymentProviders(orm),
    });
  } catch (error) {
    options.metrics?.observePass("collection", "failed", (performance.now() - started) / 1000);
    throw error;
  }
  options.metrics?.observePass("collection", "ok", (performance.now() - started) / 1000, {
    charges: summary.charges.attempted,
    transitions:
      summary.transitions.past_due +
      summary.transitions.suspended +
      summary.transitions.cancelled +
      summary.transitions.archived +
      summary.transitions.settled,
    skipped_by_override: summary.skipped,
  });
  if (summary.deploymentsProcessed > 0) {
    logger.info("collection pass complete", {
      ...summary,
      now: options.now.toISOString(),
      ms: Math.round(performance.now() - started),
    });
  }
  return summary;
}

/**
 * What a rollover pass reports as `arcadia_worker_items_total{pass="rollover", item}`: one line per
 * count (charges and deliveries join here as their passes report them).
 */
export const ROLLOVER_ITEMS: Record<string, (summary: RolloverSummary) => number> = {
  invoices_issued: (s) => s.invoicesIssued,
  transitions: (s) => s.trialsConverted,
  skipped_by_override: (s) => s.skippedByOverride,
};

/** One rollover pass with progress logged every few seconds (processed, rate). */
export async function runPass(orm: Orm, logger: Logger, options: PassOptions): Promise<WorkerPassSummary> {
  const started = performance.now();
  try {
    const summary = await rolloverPass(orm, logger, options, started);
    options.metrics?.observePass(
      "rollover",
      "ok",
      (performance.now() - started) / 1000,
      Object.fromEntries(Object.entries(ROLLOVER_ITEMS).map(([item, count]) => [item, count(summary)])),
    );
    // Invoices just issued are charged at issue; everything else collection has due runs too.
    const collection = await runCollection(orm, logger, options);
    return { ...summary, collection };
  } catch (error) {
    options.metrics?.observePass("rollover", "failed", (performance.now() - started) / 1000);
    throw error;
  }
}

async function rolloverPass(
  orm: Orm,
  logger: Logger,
  options: PassOptions,
  started: number,
): Promise<RolloverSummary> {
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
  // Retention runs on the real clock, never on the pass's instant: `--once --now` may put that
  // weeks ahead, and pruning by it would drop what is still within its window.
  // Stored Idempotency-Key responses older than the replay window (by the API's clock, which
  // wrote them) are of no further use.
  const prunedIdempotencyKeys = await pruneIdempotencyKeys(orm, new Date());
  // Events are kept at least 30 days (the feed's retention); older ones go.
  const prunedEvents = await pruneEvents(orm);
  logger.info("rollover pass complete", {
    ...summary,
    prunedIdempotencyKeys,
    prunedEvents,
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
  options: {
    cron: string;
    batchSize?: number;
    concurrency?: number;
    workerId?: string;
    metrics?: Metrics;
    /** How often collection runs between rollover ticks (default 10 s). */
    collectionIntervalMs?: number;
    providers?: PaymentProviders;
  },
): Scheduler {
  let stopping = false;
  let inFlight: Promise<unknown> | null = null;
  const providers = options.providers ?? defaultPaymentProviders(orm);
  // Collection runs continuously, not only on the rollover schedule: a retry or a ladder step is
  // due at its own instant. One loop per process, never overlapping itself.
  let collectionTimer: NodeJS.Timeout | undefined;
  let collectionInFlight: Promise<unknown> | null = null;
  const collect = () => {
    if (stopping) return;
    collectionInFlight = runCollection(orm, logger, {
      now: new Date(),
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      providers,
      metrics: options.metrics,
      shouldStop: () => stopping,
    })
      .catch((error) => logger.error("collection pass failed", { err: error }))
      .finally(() => {
        collectionInFlight = null;
        if (!stopping) collectionTimer = setTimeout(collect, options.collectionIntervalMs ?? 10_000);
      });
  };
  collectionTimer = setTimeout(collect, 0);
  const job = new Cron(options.cron, { protect: true, timezone: "UTC" }, async () => {
    inFlight = runPass(orm, logger, {
      now: new Date(),
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      workerId: options.workerId,
      providers,
      shouldStop: () => stopping,
      metrics: options.metrics,
    }).catch((error) => logger.error("rollover pass failed", { err: error }));
    await inFlight;
    inFlight = null;
  });
  logger.info("worker scheduler started", { cron: options.cron, next: job.nextRun()?.toISOString() ?? null });
  return {
    async stop() {
      stopping = true;
      job.stop();
      clearTimeout(collectionTimer);
      await Promise.all([inFlight, collectionInFlight]);
    },
  };
}
