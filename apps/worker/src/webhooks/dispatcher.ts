import {
  type AttemptOutcome,
  claimAndFailDueDeliveries,
  type DueDelivery,
  FAN_OUT_PAGE,
  type FanOutOptions,
  fanOutAndLease,
  type Orm,
  recordAttemptOutcomes,
  recoverWebhookLeases,
  releaseDeliveries,
  WEBHOOK_LEASE_MS,
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

/** Outcomes written in one statement, at most; see `Attempts.recordSoon`. */
const RECORD_BATCH = 250;
/** How long the first outcome of a batch waits for others. */
const RECORD_WAIT_MS = 50;

/**
 * The pages a leasing fan-out handed to this process (`webhook_leases`), each with how many of its
 * attempts are neither recorded nor handed back yet. The statement that settles a page's last ones
 * deletes its lease — unless a statement settling one of its attempts failed (`fail`): that
 * attempt has neither a row nor a log line, so the page's lease is left to run out and be
 * recovered (`recoverWebhookLeases`), which queues it again. Nothing is lost; an attempt may be
 * made again.
 */
export class LeasedPages {
  private readonly open = new Map<string, number>();
  private readonly failed = new Set<string>();

  add(deliveries: readonly DueDelivery[]): void {
    for (const d of deliveries) if (d.paged) this.open.set(d.leaseId, (this.open.get(d.leaseId) ?? 0) + 1);
  }

  /** The pages that `deliveries` would settle completely (none that a failure touched). */
  completedBy(deliveries: readonly DueDelivery[]): string[] {
    const counts = new Map<string, number>();
    for (const d of deliveries) if (d.paged) counts.set(d.leaseId, (counts.get(d.leaseId) ?? 0) + 1);
    return [...counts].filter(([id, n]) => this.open.get(id) === n && !this.failed.has(id)).map(([id]) => id);
  }

  /** `deliveries` are settled: counted off their pages. */
  settle(deliveries: readonly DueDelivery[]): void {
    for (const d of deliveries) {
      if (!d.paged) continue;
      const left = (this.open.get(d.leaseId) ?? 1) - 1;
      if (left > 0) this.open.set(d.leaseId, left);
      else {
        this.open.delete(d.leaseId);
        this.failed.delete(d.leaseId);
      }
    }
  }

  /** `deliveries` could not be settled (their statement failed): their pages' leases must run out. */
  fail(deliveries: readonly DueDelivery[]): void {
    for (const d of deliveries) if (d.paged && this.open.has(d.leaseId)) this.failed.add(d.leaseId);
    this.settle(deliveries);
  }
}

/**
 * What tells an attempt in flight from every other: a claim's own token (not the delivery: a
 * delivery redelivered while an attempt runs may be claimed again, here too), or, for one handed
 * over under a page's lease (which its whole page shares), the id drawn for it.
 */
function attemptKey(delivery: DueDelivery): string {
  return delivery.paged ? delivery.deliveryId : delivery.leaseId;
}

/**
 * The attempts of one process: sends run concurrently (bounded overall and per endpoint), and
 * what they came to is recorded in batches (see `recordSoon`). A slot frees as soon as its request
 * is answered; the delivery's lease keeps it from being claimed again before its outcome is written.
 */
class Attempts {
  /** By `attemptKey`: each attempt stays counted until it ends. */
  readonly inFlight = new Map<string, Promise<void>>();
  readonly perEndpoint = new Map<string, number>();
  private finished: AttemptOutcome[] = [];
  private recording: Promise<void> | null = null;
  private recordAll = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
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
    private readonly pages: LeasedPages,
    private readonly onSlotFree: (endpointId: string, durationMs: number | null) => void = () => {},
  ) {}

  start(delivery: DueDelivery): void {
    this.attempted += 1;
    const { endpointId } = delivery;
    this.perEndpoint.set(endpointId, (this.perEndpoint.get(endpointId) ?? 0) + 1);
    const attemptedAt = this.now();
    const key = attemptKey(delivery);
    // One reaction per attempt (the sender never rejects: a failure is an outcome).
    const sending = this.sender
      .send(
        { url: delivery.url, id: delivery.eventId, body: delivery.body, secrets: delivery.secrets },
        Math.floor(Date.now() / 1000),
      )
      .then(
        (result) => {
          try {
            this.finished.push({ delivery, attemptedAt, ...result });
            this.recordSoon();
          } finally {
            this.answer(key, endpointId, result.durationMs);
          }
        },
        (error: unknown) => {
          // The sender answers every attempt with an outcome; this is a fault of ours. The
          // delivery's lease (a claim's, or its page's) runs out and it is sent again.
          this.logger.error("webhook attempt ended without an outcome", { endpointId, err: error });
          this.pages.fail([delivery]);
          this.answer(key, endpointId, null);
        },
      );
    this.inFlight.set(key, sending);
  }

  /** An attempt answered (or ended without an outcome): its slot is free. */
  private answer(key: string, endpointId: string, durationMs: number | null): void {
    this.answered += 1;
    this.inFlight.delete(key);
    const left = (this.perEndpoint.get(endpointId) ?? 1) - 1;
    if (left === 0) this.perEndpoint.delete(endpointId);
    else this.perEndpoint.set(endpointId, left);
    this.onSlotFree(endpointId, durationMs);
  }

  /**
   * Outcomes are written together: at once when `RECORD_BATCH` have finished, else `RECORD_WAIT_MS`
   * after the first (a slot frees when its request is answered, so only the delivery log waits;
   * the lease, far longer, keeps the delivery from being claimed again meanwhile). A statement per
   * hundred attempts instead of per few costs a fraction of the database's and this process's CPU.
   */
  private recordSoon(): void {
    if (this.finished.length >= RECORD_BATCH) void this.record();
    else if (!this.recording) this.timer ??= setTimeout(() => void this.record(), RECORD_WAIT_MS);
  }

  /**
   * Writes what has finished, one batch at a time, while full batches are waiting (`all`: until
   * nothing is left). A failure is logged: the lease runs out and the attempt is made again.
   */
  record(all = false): Promise<void> {
    if (all) this.recordAll = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.recording) return this.recording;
    // Nothing to write: no batch loop (one that ended at once would leave itself in `recording`).
    if (this.finished.length === 0) {
      this.recordAll = false;
      return Promise.resolve();
    }
    this.recording = this.writeBatches();
    return this.recording;
  }

  private async writeBatches(): Promise<void> {
    while (this.finished.length > 0) {
      const batch = this.finished.splice(0, RECORD_BATCH);
      const deliveries = batch.map((o) => o.delivery);
      let recorded: Awaited<ReturnType<typeof recordAttemptOutcomes>>;
      try {
        recorded = await recordAttemptOutcomes(
          this.orm,
          batch,
          this.now(),
          this.pages.completedBy(deliveries),
        );
        this.pages.settle(deliveries);
      } catch (error) {
        // Their leases (a claim's, or a page's) run out and the attempts are made again.
        this.logger.error("webhook attempts not recorded", { attempts: batch.length, err: error });
        this.pages.fail(deliveries);
        recorded = [];
      }
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
        batch.filter((_, i) => recorded[i]?.endpointDisabled).map((o) => o.delivery.endpointId),
      );
      for (const endpointId of disabled) {
        this.logger.warn("webhook endpoint disabled after 5 days without success", { endpointId });
        this.metrics?.observeWebhookEndpointDisabled();
      }
      if (this.finished.length < RECORD_BATCH && !this.recordAll) break;
    }
    this.recording = null;
    this.recordAll = false;
    // What finished meanwhile, short of a batch, waits for more (or for its time).
    if (this.finished.length > 0) this.recordSoon();
  }

  /** Every attempt started has been answered and recorded. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight.values());
    // A batch being written may have left some behind: wait for it, then write everything.
    await this.recording;
    await this.record(true);
  }
}

/**
 * Fans new events out into deliveries (see `fanOutAndLease`), counted as a `webhook_fanout` pass;
 * with `lease`, what fits is claimed for this process at once.
 */
async function countedFanOut(orm: Orm, now: Date, metrics: Metrics | undefined, options: FanOutOptions = {}) {
  const started = performance.now();
  try {
    const result = await fanOutAndLease(orm, now, options);
    metrics?.observePass("webhook_fanout", "ok", (performance.now() - started) / 1000, {
      events: result.events,
    });
    return result;
  } catch (error) {
    metrics?.observePass("webhook_fanout", "failed", (performance.now() - started) / 1000);
    throw error;
  }
}

/**
 * The fan-out keeps pace with the endpoints it streams to only while at most this many events are
 * left past its cursor: an endpoint enabled meanwhile waits for them to be read ahead (five pages,
 * about a tenth of a second here) besides the poll that counts it.
 */
const FAN_OUT_PACED_BACKLOG = 5000;

/** A fan-out that came back short waits at least this long before the next one (the poll's aside). */
const FAN_OUT_GAP_MS = 20;

/** An endpoint that has not answered for this long while holding deliveries is not streamed to. */
const STALL_MS = 1000;

/**
 * Claimed deliveries held per endpoint besides those in flight, in multiples of `perEndpoint`, at
 * the most (an endpoint that answers fast enough to send them all within a sixth of a lease).
 */
const CLAIM_AHEAD = 24;

/** The same, for an endpoint whose pace this process has not seen yet. */
const FIRST_CLAIM_AHEAD = 8;

/**
 * An endpoint asks for a claim once it holds (in flight and queued) at most this share of what it
 * may hold, `REFILL_AT / (1 + CLAIM_AHEAD)` (a fast endpoint: 8 batches of its 25): a claim then
 * brings the rest at once, while what is still queued covers the claim's round trip.
 */
const REFILL_AT = 8;

/**
 * Endpoints' pace: the average time an attempt takes (an exponential average of the last few
 * dozen), whence how many an endpoint sends in a given time with its slots full. Kept for the
 * endpoints answered in the last `PACE_KEPT_MS` (an endpoint that comes back later starts afresh).
 */
class Pace {
  private readonly endpoints = new Map<string, { averageMs: number; at: number }>();
  private pruned = performance.now();

  observe(endpointId: string, durationMs: number): void {
    const at = performance.now();
    const known = this.endpoints.get(endpointId);
    if (known) {
      known.averageMs = known.averageMs * 0.95 + durationMs * 0.05;
      known.at = at;
    } else this.endpoints.set(endpointId, { averageMs: durationMs, at });
    if (at - this.pruned > PACE_KEPT_MS) {
      this.pruned = at;
      for (const [id, pace] of this.endpoints) if (at - pace.at > PACE_KEPT_MS) this.endpoints.delete(id);
    }
  }

  /** When this endpoint last answered (`performance.now()`); undefined when not known. */
  answeredAt(endpointId: string): number | undefined {
    return this.endpoints.get(endpointId)?.at;
  }

  /** Milliseconds an attempt of this endpoint takes, on average; undefined when not known. */
  of(endpointId: string): number | undefined {
    return this.endpoints.get(endpointId)?.averageMs;
  }

  known(): IterableIterator<string> {
    return this.endpoints.keys();
  }
}

/** How long an endpoint's pace is kept after its last answer. */
const PACE_KEPT_MS = 60_000;

/**
 * The deliveries this process has claimed (or leased from its fan-out), queued per endpoint, and
 * the attempts in flight. Claims run ahead of sending: each endpoint holds claimed deliveries
 * besides its `perEndpoint` in flight, so a slot that frees starts the endpoint's next attempt at
 * once instead of waiting for a round trip (claims and leasing fan-outs refill the queues in the
 * background, several endpoints per query).
 * How many: what the endpoint sends, at its own pace, within a sixth of a lease, in whole batches
 * of `perEndpoint` — none for an endpoint that takes that long an attempt, at most `CLAIM_AHEAD`
 * batches (`FIRST_CLAIM_AHEAD` before its pace is known) — so a fast endpoint's claims are large
 * and a slow endpoint's queue does not outwait its lease. Overall, at most `maxInFlight` attempts
 * run and `CLAIM_AHEAD × maxInFlight` wait claimed. A delivery that still waited in its queue past
 * a third of its lease (an endpoint that slowed down) is handed back unsent, so the lease never
 * runs out under an attempt.
 */
class Deliveries {
  readonly attempts: Attempts;
  private readonly pages = new LeasedPages();
  private readonly queues = new Map<string, { delivery: DueDelivery; claimedAt: number }[]>();
  queued = 0;
  private readonly maxInFlight: number;
  private readonly perEndpoint: number;
  private readonly leaseMs: number;
  private readonly pace = new Pace();

  constructor(
    private readonly orm: Orm,
    sender: WebhookSender,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions & { now: () => Date },
    onSlotFree: () => void = () => {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 64;
    this.perEndpoint = options.perEndpoint ?? 8;
    this.leaseMs = options.leaseMs ?? WEBHOOK_LEASE_MS;
    this.attempts = new Attempts(
      orm,
      sender,
      logger,
      options.now,
      options.metrics,
      this.pages,
      (endpointId, durationMs) => {
        if (durationMs !== null) this.pace.observe(endpointId, durationMs);
        this.pumpSoon();
        if (this.wantsRefill(endpointId)) onSlotFree();
      },
    );
  }

  /**
   * How many deliveries an endpoint may hold here, in flight and queued: its slots, and what it
   * sends with them full within a sixth of a lease (whole batches of `perEndpoint`, none to
   * `CLAIM_AHEAD`: an endpoint that takes a sixth of a lease or more per attempt gets none queued).
   */
  depth(endpointId: string): number {
    const averageMs = this.pace.of(endpointId);
    if (averageMs === undefined) return this.firstDepth;
    const batches = Math.floor(this.leaseMs / 6 / Math.max(averageMs, 0.001));
    return this.perEndpoint * (1 + Math.min(CLAIM_AHEAD, batches));
  }

  /** An endpoint's depth before this process has seen its pace. */
  private get firstDepth(): number {
    return this.perEndpoint * (1 + FIRST_CLAIM_AHEAD);
  }

  /**
   * A claim (or a fan-out's lease) is worth its query once the endpoint has room for several
   * batches, not for every freed slot (see `REFILL_AT`).
   */
  wantsRefill(endpointId: string): boolean {
    const refillAt = Math.max(this.perEndpoint, (this.depth(endpointId) * REFILL_AT) / (1 + CLAIM_AHEAD));
    return this.held(endpointId) <= refillAt;
  }

  /** Deliveries of an endpoint this process holds: in flight and queued. */
  held(endpointId: string): number {
    return (this.attempts.perEndpoint.get(endpointId) ?? 0) + (this.queues.get(endpointId)?.length ?? 0);
  }

  /** Room for more claimed deliveries (in flight or queued) in this process. */
  get room(): number {
    return this.maxInFlight * (1 + CLAIM_AHEAD) - this.attempts.inFlight.size - this.queued;
  }

  /**
   * What a claim (or a fan-out's lease) may take now: up to the room left, each endpoint up to its
   * depth (those whose pace is known at their own, the others at the first one), less what it holds.
   */
  private bounds() {
    const held = new Map(this.attempts.perEndpoint);
    for (const [endpointId, queue] of this.queues)
      held.set(endpointId, (held.get(endpointId) ?? 0) + queue.length);
    const depths = new Map<string, number>();
    for (const endpointId of this.pace.known()) {
      const depth = this.depth(endpointId);
      if (depth !== this.firstDepth) depths.set(endpointId, depth);
    }
    return {
      limit: this.room,
      perEndpoint: this.firstDepth,
      perEndpointOf: depths,
      busy: held,
      leaseMs: this.leaseMs,
    };
  }

  /**
   * Claims due deliveries into the queues (up to the room left) and starts what may start. Skipped
   * (`force` aside: the poll's pass) while the last claim found nothing although every endpoint
   * this process holds had room, and no fan-out or hand-back of this process has queued a delivery
   * due since: in a steady stream the fan-out leases everything, and what other workers queue or
   * retries make due waits for the next poll at most. (A claim that found nothing while an endpoint
   * was full proves nothing about that endpoint's queue: the next pass claims again.) Returns how
   * many it claimed, and failed for want of their event (`claimAndFailDueDeliveries`).
   */
  async claim(force: boolean): Promise<number> {
    if (!force && this.claimFoundNothing && this.queuedDueSince === 0) return 0;
    const bounds = this.bounds();
    if (bounds.limit <= 0) return 0;
    const anyFull = [...bounds.busy.keys()].some(
      (endpointId) => this.held(endpointId) >= this.depth(endpointId),
    );
    this.queuedDueSince = 0;
    const { claimed, failed } = await claimAndFailDueDeliveries(this.orm, {
      now: this.options.now(),
      ...bounds,
    });
    // Deliveries failed for want of their event took room in the claim: more may be due behind them.
    this.claimFoundNothing = claimed.length === 0 && failed === 0 && !anyFull;
    this.enqueue(claimed);
    return claimed.length + failed;
  }

  private claimFoundNothing = false;
  private queuedDueSince = 0;

  /**
   * Whether this process's last fan-out found an endpoint enabled besides those it streamed to
   * (null before the first): only with none may the fan-out keep pace with them.
   */
  private others: boolean | null = null;
  /** Events past the fan-out's cursor after this process's last fan-out, roughly (null: not known). */
  private backlog: number | null = null;
  /** When this process's last fan-out came back short of its page. */
  private lastShortFanOut = Number.NEGATIVE_INFINITY;

  /**
   * The endpoints this process streams to: it has seen them answer lately (their pace is kept for
   * `PACE_KEPT_MS`), fast enough for deep claims (an attempt within about half a second), and those
   * it holds deliveries of answered within the last `STALL_MS` (one that stopped answering is not).
   */
  private streaming(): string[] {
    const now = performance.now();
    return [...this.pace.known()].filter((endpointId) => {
      const answeredAt = this.pace.answeredAt(endpointId) ?? Number.NEGATIVE_INFINITY;
      // (The pace is pruned only when an answer comes: an idle process may still hold older ones.)
      const within = this.held(endpointId) === 0 ? PACE_KEPT_MS : STALL_MS;
      return this.depth(endpointId) > this.firstDepth && answeredAt >= now - within;
    });
  }

  /**
   * Fans new events out, leasing to this process what fits its endpoints' room (sent from the
   * queues like claimed ones); what does not fit is queued due, for any worker's claims. Two modes:
   *
   * - Paced, while every enabled endpoint is one this process streams to (the last fan-out counted
   *   no other) and at most `FAN_OUT_PACED_BACKLOG` events are left past the cursor: a page is as
   *   long as the roomiest of them wanting a refill can take, and none is read while none wants
   *   one (the poll's pass aside), so their first attempts are leased as they are fanned out
   *   instead of queued due for a claim to lease again. No other endpoint's events are behind the
   *   cursor, and one enabled or created
   *   meanwhile (counted at the next poll at the latest) waits only for that bounded backlog to
   *   be read ahead.
   * - Ahead otherwise — any other enabled endpoint (one that is slow, stalled, not yet seen, held
   *   by another worker, or new), a longer backlog, or nothing streamed yet: pages of
   *   `FAN_OUT_PAGE`, one after another, so that one endpoint's backlog never holds back
   *   another's events.
   *
   * In both, a page is not read sooner than `FAN_OUT_GAP_MS` after a short one (caught up), but
   * by the poll's pass (`force`), which also reads one when paced and nothing wants one. Nothing
   * while the process has no room. `more`: read the next page at once.
   */
  async fanOut(force: boolean): Promise<{ events: number; more: boolean }> {
    const bounds = this.bounds();
    if (bounds.limit <= 0) return { events: 0, more: false };
    const streaming = this.streaming();
    const paced =
      streaming.length > 0 &&
      this.others === false &&
      this.backlog !== null &&
      this.backlog <= FAN_OUT_PACED_BACKLOG;
    // Caught up a moment ago: the poll's pass comes soon enough (not a statement per answer).
    const waited = performance.now() - this.lastShortFanOut >= FAN_OUT_GAP_MS;
    if (!force && !waited) return { events: 0, more: false };
    let limit = FAN_OUT_PAGE;
    if (paced) {
      let roomiest = 0;
      for (const endpointId of streaming)
        if (this.wantsRefill(endpointId))
          roomiest = Math.max(roomiest, this.depth(endpointId) - this.held(endpointId));
      if (!force && roomiest <= 0) return { events: 0, more: false };
      limit = Math.min(FAN_OUT_PAGE, Math.max(roomiest, this.perEndpoint));
    }
    const { events, leased, queued, others, backlog } = await countedFanOut(
      this.orm,
      this.options.now(),
      this.options.metrics,
      { limit, lease: bounds, besides: streaming },
    );
    this.others = others;
    this.backlog = backlog;
    if (events < limit) this.lastShortFanOut = performance.now();
    this.queuedDueSince += queued;
    this.enqueue(leased);
    const full = events >= limit;
    return { events, more: full && (!paced || streaming.some((e) => this.wantsRefill(e))) };
  }

  /** Queues deliveries just claimed (or leased by the fan-out) and starts what may start. */
  private enqueue(claimed: readonly DueDelivery[]): void {
    this.pages.add(claimed);
    const claimedAt = performance.now();
    for (const delivery of claimed) {
      const queue = this.queues.get(delivery.endpointId) ?? [];
      queue.push({ delivery, claimedAt });
      this.queues.set(delivery.endpointId, queue);
      this.queued += 1;
    }
    this.pump();
  }

  /** Whether a `pump` is due at the end of this turn of the event loop (`pumpSoon`). */
  private pumpDue = false;

  /**
   * A freed slot's next attempt starts at the end of this turn of the event loop (`setImmediate`:
   * once the answers that arrived together have all been read), with the attempts of the other
   * slots freed in the same turn, so that their requests go out back to back rather than one
   * between each two answers read. A socket write that wakes a receiver gone to sleep costs
   * the writer a wake-up; one that follows another to a receiver already woken does not — on this
   * machine, where the benchmark's receiver shares the cores, the worker's CPU per delivery fell by
   * about a tenth and its pace rose from 52% to 62.5% of the bare loop's (ARCHITECTURE.md,
   * "Throughput").
   * The answers' other work (the pace, a refill's wake-up) is not deferred.
   */
  private pumpSoon(): void {
    if (this.pumpDue) return;
    this.pumpDue = true;
    setImmediate(() => {
      this.pumpDue = false;
      this.pump();
    });
  }

  /** Starts queued deliveries while their endpoint and the process have free slots. */
  pump(): void {
    if (this.queued === 0 || this.attempts.inFlight.size >= this.maxInFlight) return;
    const staleBefore = performance.now() - this.leaseMs / 3;
    const stale: DueDelivery[] = [];
    // Endpoints in turn: one that starts something goes to the back of the line, so when the
    // process-wide bound is what limits, freed slots go round the endpoints rather than to the first.
    const endpoints = this.queues.size === 1 ? this.queues : [...this.queues];
    for (const [endpointId, queue] of endpoints) {
      let started = false;
      while (
        queue.length > 0 &&
        this.attempts.inFlight.size < this.maxInFlight &&
        (this.attempts.perEndpoint.get(endpointId) ?? 0) < this.perEndpoint
      ) {
        const { delivery, claimedAt } = queue.shift()!;
        this.queued -= 1;
        if (claimedAt < staleBefore) stale.push(delivery);
        else {
          this.attempts.start(delivery);
          started = true;
        }
      }
      if (queue.length === 0) this.queues.delete(endpointId);
      else if (started && this.queues.size > 1) {
        this.queues.delete(endpointId);
        this.queues.set(endpointId, queue);
      }
    }
    if (stale.length > 0) void this.handBack(stale);
  }

  /** Hands claimed, unsent deliveries back (their lease and attempt undone): due again at once. */
  private async handBack(deliveries: DueDelivery[]): Promise<void> {
    try {
      await releaseDeliveries(this.orm, deliveries, {
        now: this.options.now(),
        completedLeases: this.pages.completedBy(deliveries),
      });
      this.pages.settle(deliveries);
      // Due again: the next pass claims.
      this.queuedDueSince += deliveries.length;
    } catch (error) {
      // Their lease (a claim's, or a page's) runs out instead.
      this.logger.error("webhook deliveries not handed back", { deliveries: deliveries.length, err: error });
      this.pages.fail(deliveries);
    }
  }

  /**
   * Turns pages whose lease ran out (a dead worker's) back into due deliveries; what it queues
   * is claimed like any due delivery.
   */
  async recover(): Promise<number> {
    const { queued } = await recoverWebhookLeases(this.orm, this.options.now());
    this.queuedDueSince += queued;
    return queued;
  }

  /** Stops sending what is queued (handed back) and waits for the attempts in flight to be recorded. */
  async drain(): Promise<void> {
    const queued = [...this.queues.values()].flat().map((q) => q.delivery);
    this.queues.clear();
    this.queued = 0;
    if (queued.length > 0) await this.handBack(queued);
    await this.attempts.settle();
  }
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
  while ((await recoverWebhookLeases(orm, options.now())).pages > 0);
  while ((await countedFanOut(orm, options.now(), options.metrics)).events > 0);
  const deliveries = new Deliveries(orm, sender, logger, options);
  const { attempts } = deliveries;
  for (;;) {
    const answeredBefore = attempts.answered;
    const claimed = await deliveries.claim(true);
    if (claimed > 0) continue;
    // A claim made while attempts were answered saw their slots busy: its "nothing" proves nothing yet.
    if (attempts.answered !== answeredBefore) continue;
    // What answers freed room for starts now, not at the end of the turn (`pumpSoon`): with
    // nothing in flight, there would be nothing to wait for.
    deliveries.pump();
    if (attempts.inFlight.size === 0 && deliveries.queued === 0) break;
    await Promise.race(attempts.inFlight.values());
  }
  await deliveries.drain();
  return { attempts: attempts.attempted, succeeded: attempts.succeeded };
}

export interface WebhookDispatcher {
  /** Stops claiming; resolves when the attempts in flight have been answered and recorded. */
  stop(): Promise<void>;
}

/** A wake-up for a loop: one raised while the loop was busy is kept, so its next wait returns at once. */
class Signal {
  private raised = false;
  private waiter: (() => void) | null = null;

  raise(): void {
    this.raised = true;
    this.waiter?.();
  }

  /** Forgets a wake-up raised before now (the work about to run will see what it was about). */
  clear(): void {
    this.raised = false;
  }

  /** Waits `ms`, or until raised. */
  wait(ms: number): Promise<void> {
    if (this.raised) {
      this.raised = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = null;
        this.raised = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiter = done;
    });
  }
}

/**
 * The delivery loop of `pnpm worker` and `pnpm start`. Each pass claims what is due (retries,
 * redeliveries, deliveries queued for want of room), then fans new events out, leasing to this
 * process what fits its endpoints' room in the same statement (see `Deliveries.fanOut`): a first
 * attempt costs no claim of its own. Sending runs beside the passes (attempts are not awaited by
 * them), so a burst's fan-out never holds back its sending. A pass runs again at once while a claim
 * fills the room or a page comes back full, else after `pollMs` (200 ms by default: new events and
 * due retries), when an endpoint has room for a batch again, or at once on `wake()` (for a caller
 * that knows of new events: `pnpm worker` only polls, ARCHITECTURE.md says why not LISTEN/NOTIFY);
 * a poll needs no session state, so it works behind a transaction-pooling proxy too. Attempts run
 * concurrently, bounded overall and per endpoint, so a slow endpoint only ever holds its own slots.
 */
export function startWebhookDispatcher(
  orm: Orm,
  sender: WebhookSender,
  logger: Logger,
  options: DispatcherOptions = {},
): WebhookDispatcher & { wake(): void } {
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 200;
  let stopping = false;
  const signal = new Signal();
  const deliveries = new Deliveries(orm, sender, logger, { ...options, now }, () => signal.raise());
  const backOffMs = Math.max(pollMs, 1000);
  const backOff = () => new Promise((resolve) => setTimeout(resolve, backOffMs));
  /** Until when claims (fan-outs) wait after one failed. */
  let claimsFrom = 0;
  let fanOutsFrom = 0;

  let lastPoll = Number.NEGATIVE_INFINITY;
  let woken = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        signal.clear();
        // A process without room waits for a slot to free (claiming nothing, it would spin).
        const room = deliveries.room;
        if (room <= 0) {
          await signal.wait(pollMs);
          continue;
        }
        // The poll's pass (and a wake-up's) does everything; a pass for an endpoint's room only
        // what may have something for it.
        const polled = performance.now() - lastPoll >= pollMs || woken;
        if (polled) lastPoll = performance.now();
        woken = false;
        // What is due first (retries, redeliveries, what fan-outs queued for want of room), then
        // new events, leased as they are fanned out. Each on its own: one that fails is retried
        // after a back-off, while the other goes on.
        let claimed = 0;
        let more = false;
        const at = performance.now();
        if (at >= claimsFrom) {
          try {
            // A dead worker's leased pages, once their lease has run out: due again, then claimed.
            if (polled) await deliveries.recover();
            claimed = await deliveries.claim(polled);
          } catch (error) {
            logger.error("webhook claim failed", { err: error });
            claimsFrom = performance.now() + backOffMs;
          }
        }
        if (at >= fanOutsFrom) {
          try {
            more = (await deliveries.fanOut(polled)).more;
          } catch (error) {
            logger.error("webhook fan-out failed", { err: error });
            fanOutsFrom = performance.now() + backOffMs;
          }
        }
        // A full claim or a full page: there is more at once. Else wait for the poll (due
        // retries, new events), a wake-up, or an endpoint's room for a batch.
        if (claimed >= room || more) continue;
        await signal.wait(lastPoll + pollMs - performance.now());
      } catch (error) {
        logger.error("webhook delivery pass failed", { err: error });
        await backOff();
      }
    }
  })();
  logger.info("webhook dispatcher started", {
    pollMs,
    maxInFlight: options.maxInFlight ?? 64,
    perEndpoint: options.perEndpoint ?? 8,
  });
  return {
    wake() {
      woken = true;
      signal.raise();
    },
    async stop() {
      stopping = true;
      signal.raise();
      await loop;
      await deliveries.drain();
    },
  };
}
