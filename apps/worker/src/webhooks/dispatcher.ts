import {
  type AttemptOutcome,
  claimDueDeliveries,
  type DueDelivery,
  fanOutEvents,
  type Orm,
  recordAttemptOutcomes,
} from "@arcadia/db";
import type { Logger, Metrics } from "@arcadia/runtime";
import type { WebhookSender } from "./sender.ts";

export interface DispatcherOptions {
  /** The clock retries are scheduled by (the wall clock; tests inject one). */
  readonly now?: () => Date;
  /** Attempts in flight at once in this process. */
  readonly maxInFlight?: number;
  /** Attempts in flight at once per endpoint in this process: a slow endpoint holds only these. */
  readonly perEndpoint?: number;
  /** How often to look for new events and due retries when idle. */
  readonly pollMs?: number;
  /** See `claimDueDeliveries`. */
  readonly leaseMs?: number;
  /** Where attempts (by outcome) and fan-out passes are counted (`GET /metrics`). */
  readonly metrics?: Metrics;
}

/**
 * The attempts of one process: sends run concurrently (bounded overall and per endpoint), and
 * what they came to is recorded in batches — whatever finished while the previous batch was being
 * written goes in the next one. A slot frees as soon as its request is answered; the delivery's
 * lease keeps it from being claimed again before its outcome is written.
 */
class Attempts {
  readonly inFlight = new Map<string, Promise<void>>();
  readonly perEndpoint = new Map<string, number>();
  private finished: AttemptOutcome[] = [];
  private recording: Promise<void> | null = null;
  attempted = 0;
  succeeded = 0;
  /** Attempts answered so far (their slots freed): a claim made before one was answered saw it busy. */
  answered = 0;

  constructor(
    private readonly orm: Orm,
    private readonly sender: WebhookSender,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly metrics: Metrics | undefined,
    private readonly onSlotFree: () => void = () => {},
  ) {}

  start(delivery: DueDelivery): void {
    this.attempted += 1;
    this.perEndpoint.set(delivery.endpointId, (this.perEndpoint.get(delivery.endpointId) ?? 0) + 1);
    const attemptedAt = this.now();
    const sending = this.sender
      .send(
        { url: delivery.url, id: delivery.eventId, body: delivery.body, secrets: delivery.secrets },
        Math.floor(Date.now() / 1000),
      )
      .then((result) => {
        this.finished.push({ delivery, attemptedAt, ...result });
        void this.record();
      })
      .finally(() => {
        this.answered += 1;
        this.inFlight.delete(delivery.deliveryId);
        const left = (this.perEndpoint.get(delivery.endpointId) ?? 1) - 1;
        if (left === 0) this.perEndpoint.delete(delivery.endpointId);
        else this.perEndpoint.set(delivery.endpointId, left);
        this.onSlotFree();
      });
    this.inFlight.set(delivery.deliveryId, sending);
  }

  /** Writes what has finished; one batch at a time. A failure is logged: the lease runs out and the attempt is made again. */
  record(): Promise<void> {
    this.recording ??= (async () => {
      while (this.finished.length > 0) {
        const batch = this.finished;
        this.finished = [];
        try {
          const recorded = await recordAttemptOutcomes(this.orm, batch, this.now());
          recorded.forEach((r, i) => {
            const { delivery, responseStatus, error, durationMs } = batch[i]!;
            this.metrics?.observeWebhookAttempt(
              r.succeeded ? "delivered" : r.failed ? "failed" : "retrying",
              durationMs / 1000,
            );
            if (r.succeeded) {
              this.succeeded += 1;
              return;
            }
            const fields = {
              endpointId: delivery.endpointId,
              eventId: delivery.eventId,
              attempt: delivery.attempt,
              status: responseStatus,
              ms: Math.round(durationMs),
            };
            this.logger.info("webhook attempt failed", { ...fields, error, gaveUp: r.failed });
          });
          const disabled = new Set(
            batch.filter((_, i) => recorded[i]!.endpointDisabled).map((o) => o.delivery.endpointId),
          );
          for (const endpointId of disabled) {
            this.logger.warn("webhook endpoint disabled after 5 days without success", { endpointId });
            this.metrics?.observeWebhookEndpointDisabled();
          }
        } catch (error) {
          this.logger.error("webhook attempts not recorded", { attempts: batch.length, err: error });
        }
      }
      this.recording = null;
    })();
    return this.recording;
  }

  /** Every attempt started has been answered and recorded. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight.values());
    await this.record();
  }
}

/** Fans new events out into deliveries (see `fanOutEvents`), counted as a `webhook_fanout` pass. */
async function fanOut(orm: Orm, now: Date, metrics: Metrics | undefined): Promise<number> {
  const started = performance.now();
  try {
    const events = await fanOutEvents(orm, now);
    metrics?.observePass("webhook_fanout", "ok", (performance.now() - started) / 1000, { events });
    return events;
  } catch (error) {
    metrics?.observePass("webhook_fanout", "failed", (performance.now() - started) / 1000);
    throw error;
  }
}

async function claim(
  orm: Orm,
  attempts: Attempts,
  options: Required<Pick<DispatcherOptions, "maxInFlight" | "perEndpoint">> & DispatcherOptions,
  now: Date,
) {
  const free = options.maxInFlight - attempts.inFlight.size;
  if (free <= 0) return 0;
  const claimed = await claimDueDeliveries(orm, {
    now,
    limit: free,
    perEndpoint: options.perEndpoint,
    busy: attempts.perEndpoint,
    leaseMs: options.leaseMs,
  });
  for (const delivery of claimed) attempts.start(delivery);
  return claimed.length;
}

/**
 * One round at the clock's `now`: fan new events out to their endpoints, then send every due
 * attempt (bounded concurrency overall and per endpoint) until none is due, and wait until all are
 * recorded. The worker loop runs continuously; tests drive retries by running rounds at chosen instants.
 */
export async function deliverDueWebhooks(
  orm: Orm,
  sender: WebhookSender,
  logger: Logger,
  options: DispatcherOptions & { now: () => Date },
): Promise<{ attempts: number; succeeded: number }> {
  const settings = {
    ...options,
    maxInFlight: options.maxInFlight ?? 64,
    perEndpoint: options.perEndpoint ?? 8,
  };
  while ((await fanOut(orm, options.now(), options.metrics)) > 0);
  const attempts = new Attempts(orm, sender, logger, options.now, options.metrics);
  for (;;) {
    const answeredBefore = attempts.answered;
    const claimed = await claim(orm, attempts, settings, options.now());
    if (claimed === 0) {
      // Slots freed while the claim ran: it saw them busy, so its "nothing" proves nothing yet.
      if (attempts.answered !== answeredBefore) continue;
      if (attempts.inFlight.size === 0) break;
      await Promise.race(attempts.inFlight.values());
      // Let the answers arriving together free their slots, so claims come in batches.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  await attempts.settle();
  return { attempts: attempts.attempted, succeeded: attempts.succeeded };
}

export interface WebhookDispatcher {
  /** Stops claiming; resolves when the attempts in flight have been answered and recorded. */
  stop(): Promise<void>;
}

/**
 * The delivery loop of `pnpm worker` and `pnpm start`: polls every `pollMs` (200 ms by default) for
 * new events (fan-out) and due attempts, so delivery starts well within a second of the commit
 * whatever the database topology (a poll needs no session state, so it works behind a
 * transaction-pooling proxy, where LISTEN would not). Attempts run concurrently, bounded overall
 * and per endpoint; a new claim is made as soon as a slot frees, so a slow endpoint only ever
 * holds its own slots.
 */
export function startWebhookDispatcher(
  orm: Orm,
  sender: WebhookSender,
  logger: Logger,
  options: DispatcherOptions = {},
): WebhookDispatcher {
  const now = options.now ?? (() => new Date());
  const settings = {
    ...options,
    maxInFlight: options.maxInFlight ?? 64,
    perEndpoint: options.perEndpoint ?? 8,
  };
  const pollMs = options.pollMs ?? 200;
  let stopping = false;
  let wake: (() => void) | null = null;
  const attempts = new Attempts(orm, sender, logger, now, options.metrics, () => wake?.());
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  const loop = (async () => {
    let fannedAt = 0;
    let fanned = 0;
    while (!stopping) {
      try {
        // New events are looked for every poll (at once again while there is a backlog), not on
        // every freed slot.
        if (fanned > 0 || performance.now() - fannedAt >= pollMs) {
          fanned = await fanOut(orm, now(), options.metrics);
          fannedAt = performance.now();
        }
        const claimed = await claim(orm, attempts, settings, now());
        // Nothing new and nothing due (or no free slot): wait for the poll, or for a slot to free.
        if (fanned === 0 && claimed === 0) await nap(pollMs - (performance.now() - fannedAt));
        // Let the answers arriving together free their slots before the next claim, so claims come in batches.
        await new Promise((resolve) => setTimeout(resolve, 2));
      } catch (error) {
        logger.error("webhook dispatch failed", { err: error });
        await nap(Math.max(pollMs, 1000));
      }
    }
  })();
  logger.info("webhook dispatcher started", {
    pollMs,
    maxInFlight: settings.maxInFlight,
    perEndpoint: settings.perEndpoint,
  });
  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await attempts.settle();
    },
  };
}
