import {
  endpointHasFailedTooLong,
  isSuccessfulStatus,
  nextAttemptAfterFailure,
  signingSecrets,
  WEBHOOK_TIMEOUT_MS,
} from "@arcadia/domain";
import { DATABASE_HORIZON } from "../events/horizon.ts";
import { eventFromRow } from "../mapping/events.ts";
import { SHOWN_ENDPOINT_COLUMNS, shownEndpointFromRow } from "../mapping/webhooks.ts";
import type { Orm } from "../orm.ts";
import { presentFeedEvent } from "../presenters/presenters.ts";
import { retryOnConflict } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { prepared } from "../shared/prepared.ts";
import { instant, instantOrNull, inTransaction, type Row, type Sql, withConnection } from "../shared/sql.ts";
import { recordEndpointDisabled } from "./endpoint-events.ts";

/**
 * The dispatcher's own bookkeeping (fan-out, claims, outcomes) commits without waiting for the WAL
 * flush (`synchronous_commit = off`, for this transaction only, so it is fine behind a
 * transaction-mode pooler). What a database crash can lose of it is at most the last few hundred
 * milliseconds, and each loss only repeats work, never skips it: a lost fan-out is fanned out again
 * (its cursor is lost with it), a lost claim makes the delivery due again, a lost outcome leaves the
 * delivery leased until its lease runs out and it is sent again — at least once either way. The
 * changes that write events keep their synchronous commits.
 */
/**
 * An endpoint's room in the calling process, in SQL: its own bound (from the JSON map `bounds`)
 * or else `fallback`, less what the process already holds of it (the JSON map `held`).
 */
function roomOf(endpoint: string, p: { bounds: string; fallback: string; held: string }): string {
  return `greatest(0, coalesce((${p.bounds}::jsonb ->> ${endpoint}::text)::int, ${p.fallback})
                      - coalesce((${p.held}::jsonb ->> ${endpoint}::text)::int, 0))`;
}

/** A map by endpoint as the JSON object the dispatcher's queries read it from (`roomOf`). */
function jsonMap(map: ReadonlyMap<string, number> | undefined): string {
  return JSON.stringify(Object.fromEntries(map ?? []));
}

/**
 * A new delivery's id, in SQL: a UUIDv7 of its event's time — the event id's 48 bits of
 * milliseconds, then a random UUID's bits with the version made 7 (a 4 there, plus 3). New
 * deliveries' keys sit together at the end of the key index, as the claim's and the outcome's new
 * row versions do after them, instead of each in a leaf of its own across the whole index.
 */
function deliveryIdOf(eventId: string): string {
  return `(select encode(set_byte(k.b, 6, get_byte(k.b, 6) + 48), 'hex')::uuid
             from (select substring(uuid_send(${eventId}) from 1 for 6)
                          || substring(uuid_send(gen_random_uuid()) from 7) as b) k)`;
}

/** Events a fan-out reads at most, unless told. */
export const FAN_OUT_PAGE = 1000;

/** How long a claim (or a fan-out's lease) is ours, unless told: three request timeouts. */
export const WEBHOOK_LEASE_MS = WEBHOOK_TIMEOUT_MS * 3;

/** A common table expression to open each of those queries with (a query that selects from it runs it). */
const ASYNC_COMMIT = "async_commit as (select set_config('synchronous_commit', 'off', true) as setting)";

/**
 * See `fanOutAndLease`: one query, prepared once per connection, committed without waiting for
 * the WAL flush. Parameters: $1 the page (events read at most), $2 now, $3 each endpoint's room
 * unless $5 names it, $4 what this process already holds per endpoint, $5 rooms by endpoint (JSON),
 * $6 the lease's end, $7 deliveries leased at most, $8 endpoints not to count in `others`.
 */
export const FAN_OUT = prepared(
  "arcadia_fan_out_and_lease_webhook_events",
  `with ${ASYNC_COMMIT},
       cur as (
         select xid, position from webhook_fanout where id = 1 for update skip locked
       ), page as (
         -- The cursor as two scalars, so that it bounds the feed index's scan (compared with a
         -- joined row, it only filtered it: every page read the feed from its start).
         select e.xid, e.position, e.id, e.tenant_id, e.type, e.occurred_at, e.data from events e
          where (e.xid, e.position) > ((select xid from cur), (select position from cur))
            and e.xid < ${DATABASE_HORIZON}
          order by e.xid, e.position
          -- The page's length out of the planner's sight (a subquery): a plan made for the value
          -- at hand costs no less than the generic one, so PostgreSQL keeps the generic plan (it
          -- planned the statement afresh at every run for short pages: 2 ms of planning a page).
          limit (select $1::int)
       ), matched as (
         select w.id as endpoint_id, p.id as event_id, p.xid, p.position,
                -- the endpoint's room, as a claim counts it
                row_number() over (partition by w.id order by p.xid, p.position)
                  <= ${roomOf("w.id", { bounds: "$5", fallback: "$3", held: "$4" })} as fits
           from page p join webhook_endpoints w
             -- a tenant's event: its endpoints and the platform-wide ones; a platform event
             -- (no tenant: the equality is never true): the platform-wide ones only
             on (w.tenant_id = p.tenant_id or w.tenant_id is null)
            and w.enabled and p.xid > w.created_xid
            and (w.event_types is null or p.type = any(w.event_types))
       ), alive as (
         -- the endpoints written for, each locked once, as a foreign key's check locked it per
         -- row: one being deleted is waited for and left out, and a deletion that comes after
         -- waits for this statement and takes what it wrote (Migration20261202030000)
         select w.id from webhook_endpoints w
          where w.id = any(array(select distinct m.endpoint_id from matched m))
            for key share of w
       ), ranked as (
         -- leased: within its endpoint's room and, in feed order, within the $7 in all
         select m.endpoint_id, m.event_id,
                m.fits and count(*) filter (where m.fits)
                  over (order by m.xid, m.position, m.endpoint_id rows unbounded preceding) <= $7 as leased
           from matched m
       ), queued as (
         -- what is not leased: a delivery due now, for any worker's claims
         insert into webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
         select ${deliveryIdOf("r.event_id")}, r.endpoint_id, r.event_id, 'pending', 0, $2, $2
           from ranked r
          where not r.leased and r.endpoint_id in (select id from alive)
         on conflict (endpoint_id, event_id) do nothing
         returning id
       ), leased as (
         -- what is leased: handed over without a row (its id drawn now, for the row that a
         -- failure or a hand-back writes); the page's lease below holds them all
         select ${deliveryIdOf("r.event_id")} as id, r.endpoint_id, r.event_id
           from ranked r
          where r.leased and r.endpoint_id in (select id from alive)
       ), lease as (
         -- one row for the page's leased attempts, listing them (none when nothing is leased)
         insert into webhook_leases (id, endpoint_ids, event_ids, delivery_ids, leased_until, created_at)
         select gen_random_uuid(), array_agg(l.endpoint_id), array_agg(l.event_id), array_agg(l.id), $6, $2
           from leased l
         having count(*) > 0
         returning id
       ), moved as (
         update webhook_fanout f set xid = last.xid, position = last.position
           from (select xid, position from page order by xid desc, position desc limit 1) last
          where f.id = 1
         returning 1
       )
       select s.events, s.queued, s.others, s.backlog, s.cursor, l.id as delivery_id, l.endpoint_id,
              case when l.id is not null then 1 end as attempts, s.lease_id,
              w.url, w.secret, w.previous_secret, w.previous_secret_expires_at,
              p.id, p.type, p.tenant_id, p.occurred_at, p.data
         from (select (select count(*) from page)::int as events,
                      (select count(*) from queued)::int as queued,
                      (select id from lease) as lease_id,
                      -- whether an endpoint besides those named in $8 is enabled (see
                      -- \`fanOutAndLease\`)
                      exists (select 1 from webhook_endpoints w
                               where w.enabled and not (w.id = any($8::uuid[]))) as others,
                      -- events past the cursor, roughly: positions after the last one read
                      -- (those of later transactions inserted before it are missed, rollbacks'
                      -- gaps counted); null while another worker holds the cursor
                      (select greatest(0, (select max(position) from events)
                                          - coalesce((select position from page order by xid desc, position desc limit 1),
                                                     c.position))
                         from cur c) as backlog,
                      -- whether the place in the feed is there at all (locked or not)
                      exists (select 1 from webhook_fanout where id = 1) as cursor,
                      (select count(*) from moved) as moved) s
         cross join async_commit
         left join (leased l join webhook_endpoints w on w.id = l.endpoint_id join page p on p.id = l.event_id)
           on true
        order by p.xid, p.position, l.endpoint_id`,
);

/** What a fan-out leases to its caller (see `fanOutAndLease`): the bounds of a claim. */
export type FanOutLease = Omit<ClaimOptions, "now">;

export interface FanOutOptions {
  /** Events read at most (`FAN_OUT_PAGE` unless told). */
  readonly limit?: number;
  /** Lease what fits to the caller (none leased without it). */
  readonly lease?: FanOutLease;
  /** Endpoints not to count in `others`. */
  readonly besides?: readonly string[];
}

/**
 * Fan-out: reads the feed from where it last stopped (the same exactly-once rule as GET /events:
 * only below the oldest running transaction — of this database, see `DATABASE_HORIZON`) and queues
 * one delivery per matching enabled endpoint — the tenant's and the platform-wide ones (for a
 * platform event, the platform-wide ones only) that subscribe to the type and were created before
 * the event's transaction. One row holds the place; whoever holds its lock fans out, other workers
 * skip. With `lease`, the deliveries that fit each endpoint's room (counted as a claim counts it)
 * are handed over to the caller as first attempts under one lease for the page (`webhook_leases`),
 * without a row each — a first attempt that succeeds then leaves only its log line; the rest are
 * queued due, for any worker's claims. Returns how many events
 * it read, the deliveries it leased, how many it queued due, whether an endpoint besides those
 * named in `besides` is enabled (`others`), and roughly how many events are left past the
 * cursor (null while another worker holds it): for the caller's pacing, `Deliveries.fanOut`.
 */
export async function fanOutAndLease(
  orm: Orm,
  now: Date,
  options: FanOutOptions = {},
): Promise<{
  events: number;
  leased: DueDelivery[];
  queued: number;
  others: boolean;
  backlog: number | null;
}> {
  const { lease } = options;
  return withConnection(orm.em, async (sql) => {
    // One query, atomic on its own (no BEGIN/COMMIT round trips).
    const run = () =>
      sql(FAN_OUT, [
        options.limit ?? FAN_OUT_PAGE,
        now,
        lease?.perEndpoint ?? 0,
        jsonMap(lease?.busy),
        jsonMap(lease?.perEndpointOf),
        new Date(now.getTime() + (lease?.leaseMs ?? WEBHOOK_LEASE_MS)),
        lease?.limit ?? 0,
        options.besides ?? [],
      ]);
    let rows = await run();
    // No place in the feed yet (a new database, or its table emptied): from the start.
    if (rows[0]?.cursor === false) {
      await sql(
        "insert into webhook_fanout (id, xid, position) values (1, '0', 0) on conflict (id) do nothing",
      );
      rows = await run();
    }
    return {
      events: Number(rows[0]?.events ?? 0),
      queued: Number(rows[0]?.queued ?? 0),
      others: rows[0]?.others === true,
      backlog: rows[0]?.backlog === null || rows[0]?.backlog === undefined ? null : Number(rows[0].backlog),
      leased: dueDeliveriesFromRows(
        rows.filter((r) => r.delivery_id !== null),
        now,
        true,
      ),
    };
  });
}

/** `fanOutAndLease` leasing nothing: every delivery queued due. Returns how many events it read. */
export async function fanOutEvents(orm: Orm, now: Date, limit = FAN_OUT_PAGE): Promise<number> {
  return (await fanOutAndLease(orm, now, { limit })).events;
}

/** A claimed attempt: where to send what, signed with which secrets. */
export interface DueDelivery {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly url: string;
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
  /**
   * This claim's own token (`lease_id`, drawn by the claim). An outcome or a hand-back applies
   * only while the delivery still holds this very lease: not once another worker has claimed it
   * again (its lease ran out), nor after a redelivery started it afresh, even when that claim has
   * the same attempt number and the same lease end (two claims in one millisecond).
   */
  readonly leaseId: string;
  /**
   * Handed over by a leasing fan-out without a row of its own: `leaseId` is its page's lease
   * (`webhook_leases`) and `deliveryId` the id its row takes if it fails or is handed back.
   */
  readonly paged: boolean;
  readonly secrets: readonly string[];
  readonly eventId: string;
  /** The exact body to POST (and sign). */
  readonly body: string;
}

export interface ClaimOptions {
  readonly now: Date;
  /** Most deliveries claimed. */
  readonly limit: number;
  /**
   * Most deliveries an endpoint may hold in this process (in flight and claimed), those it already
   * holds (`busy`) included; `perEndpointOf` overrides it endpoint by endpoint.
   */
  readonly perEndpoint: number;
  readonly perEndpointOf?: ReadonlyMap<string, number>;
  readonly busy?: ReadonlyMap<string, number>;
  /** How long a claimed attempt is ours: after that another worker may try again (a crash loses nothing). */
  readonly leaseMs?: number;
}

/** See `claimDueDeliveries`. */
export const CLAIM_DUE_DELIVERIES = prepared(
  "arcadia_claim_webhook_deliveries",
  `with ${ASYNC_COMMIT},
       due as (
         -- (sendable: whether its event is still there, see unsendable below; a scalar subquery,
         -- looked up by key per row: an exists could be planned as a hash of the whole outbox)
         select d.id, coalesce((select true from events e where e.id = d.event_id), false) as sendable
           from webhook_endpoints w
          cross join lateral (
            -- the endpoint's room: at most its own bound ($6) or else $3 in all, those already
            -- held by this process ($4) included
            select d.id, d.next_attempt_at from webhook_deliveries d
             where d.endpoint_id = w.id and d.status = 'pending' and d.next_attempt_at <= $1
               and (d.leased_until is null or d.leased_until <= $1)
             order by d.next_attempt_at, d.id
             limit ${roomOf("w.id", { bounds: "$6", fallback: "$3", held: "$4" })}
          ) c
          join webhook_deliveries d on d.id = c.id
          where w.enabled
            -- Again on the row locked: a claim that another worker committed after this
            -- statement's snapshot is seen only here (the lock re-reads the row and re-checks the
            -- conditions of this level, not the lateral's), so without these the row would be
            -- claimed a second time. As one opaque condition (coalesce): a plan cannot use it to
            -- read this row through the due index (it would scan every due delivery), only by key.
            and coalesce(d.status = 'pending' and d.next_attempt_at <= $1
                         and (d.leased_until is null or d.leased_until <= $1), false)
          order by c.next_attempt_at, c.id
          limit $2
          for update of d skip locked
       ), unsendable as (
         -- A delivery whose event is gone has no body to send: events are kept at least 30 days
         -- (SPEC §3.9), and a delivery may wait longer (its endpoint disabled meanwhile, then
         -- enabled again). It has failed: moved on here, once, rather than claimed at every end
         -- of its lease and never sent.
         update webhook_deliveries d set status = 'failed', next_attempt_at = null, leased_until = null,
                lease_id = null
          where d.id = any(array(select id from due where not sendable))
         returning 1
       ), claimed as (
         -- each by its key (an array: looked up by primary key on any statistics but those of a
         -- table of a few pages, never analysed since; see ARCHITECTURE.md)
         update webhook_deliveries d set attempts = d.attempts + 1, leased_until = $5, lease_id = gen_random_uuid(),
                last_attempt_at = $1
          where d.id = any(array(select id from due where sendable))
         returning d.id, d.endpoint_id, d.event_id, d.attempts, d.lease_id
       )
       -- one row at least: how many failed (each row), and the claimed ones with their bodies
       select s.unsendable, c.id as delivery_id, c.endpoint_id, c.attempts, c.lease_id, w.url, w.secret,
              w.previous_secret, w.previous_secret_expires_at, e.id, e.type, e.tenant_id, e.occurred_at, e.data
         from (select (select count(*) from unsendable)::int as unsendable) s
         left join (claimed c join webhook_endpoints w on w.id = c.endpoint_id
           -- the events by their keys too: the outbox only grows
           join events e on e.id = any(array(select event_id from claimed)) and e.id = c.event_id) on true
        cross join async_commit`,
);

/**
 * Claims due deliveries, fairly: at most `perEndpoint` held per endpoint, earliest due first
 * across endpoints, so one endpoint's backlog never holds back another's. A claim is a lease (the
 * attempt is counted and the delivery is not due again until the lease runs out), committed at
 * once: no transaction stays open while the HTTP request runs.
 */
export async function claimDueDeliveries(orm: Orm, options: ClaimOptions): Promise<DueDelivery[]> {
  return (await claimAndFailDueDeliveries(orm, options)).claimed;
}

/**
 * `claimDueDeliveries`, with how many due deliveries the claim found without their event and
 * failed instead (they took room in the claim: one that claimed nothing but failed some has not
 * found the queue empty).
 */
export async function claimAndFailDueDeliveries(
  orm: Orm,
  options: ClaimOptions,
): Promise<{ claimed: DueDelivery[]; failed: number }> {
  const leaseMs = options.leaseMs ?? WEBHOOK_LEASE_MS;
  // One query, atomic on its own (no BEGIN/COMMIT round trips), prepared once per connection,
  // committed without waiting for the WAL flush (see ASYNC_COMMIT).
  const rows = await withConnection(orm.em, (sql) =>
    sql(CLAIM_DUE_DELIVERIES, [
      options.now,
      options.limit,
      options.perEndpoint,
      jsonMap(options.busy),
      new Date(options.now.getTime() + leaseMs),
      jsonMap(options.perEndpointOf),
    ]),
  );
  return {
    claimed: dueDeliveriesFromRows(
      rows.filter((r) => r.delivery_id !== null),
      options.now,
    ),
    failed: Number(rows[0]?.unsendable ?? 0),
  };
}

/**
 * Claimed (or leased) rows as attempts, each body and its secrets ready. An endpoint's columns are
 * the same on each of its rows: its URL and signing secrets are read once per endpoint, and its
 * deliveries share them.
 */
function dueDeliveriesFromRows(rows: readonly Row[], now: Date, paged = false): DueDelivery[] {
  const endpoints = new Map<string, { url: string; secrets: string[] }>();
  return rows.map((r) => {
    const endpointId = r.endpoint_id as string;
    let endpoint = endpoints.get(endpointId);
    if (!endpoint) {
      endpoint = {
        url: r.url as string,
        secrets: signingSecrets(
          {
            secret: r.secret as string,
            previousSecret: (r.previous_secret as string | null) ?? null,
            previousSecretExpiresAt: instantOrNull(r.previous_secret_expires_at),
          },
          now,
        ),
      };
      endpoints.set(endpointId, endpoint);
    }
    return {
      deliveryId: r.delivery_id as string,
      endpointId,
      url: endpoint.url,
      attempt: Number(r.attempts),
      leaseId: r.lease_id as string,
      paged,
      secrets: endpoint.secrets,
      eventId: r.id as string,
      body: JSON.stringify(presentFeedEvent(eventFromRow(r))),
    };
  });
}

/**
 * Hands claimed deliveries back unsent (a dispatcher stopping, or one that held a claim too long):
 * the claim's attempt and lease are undone, so they are due again at once, in their place in the
 * queue, with the same attempt number. One that no longer holds this claim's lease (another
 * worker's claim, or a redelivery, came since) is left alone. One handed over by a page's lease
 * (`paged`) becomes a row due at `now` (its first attempt not spent), unless a row is there
 * already; `completedLeases` are the pages whose every attempt is now recorded or handed back.
 */
export async function releaseDeliveries(
  orm: Orm,
  deliveries: readonly DueDelivery[],
  options: { now?: Date; completedLeases?: readonly string[] } = {},
): Promise<void> {
  if (deliveries.length === 0) return;
  const claimed = deliveries.filter((d) => !d.paged);
  const paged = deliveries.filter((d) => d.paged);
  await withConnection(orm.em, (sql) =>
    sql(
      `with alive as (
         -- the endpoints written for, each locked once (see FAN_OUT)
         select w.id from webhook_endpoints w where w.id = any($6::uuid[]) for key share of w
       ), released as (
         update webhook_deliveries d set attempts = d.attempts - 1, leased_until = null, lease_id = null
           from unnest($1::uuid[], $2::int[], $3::uuid[]) as x(id, attempt, lease_id)
          where d.id = any($1::uuid[]) and d.id = x.id and d.attempts = x.attempt and d.lease_id = x.lease_id
       ), queued as (
         insert into webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
         select x.id, x.endpoint_id, x.event_id, 'pending', 0, $8, $8
           from unnest($4::uuid[], $5::uuid[], $7::uuid[]) as x(id, endpoint_id, event_id)
          where x.endpoint_id in (select id from alive)
         on conflict (endpoint_id, event_id) do nothing
       ), done as (
         -- (see RECORD_ATTEMPTS)
         delete from webhook_leases
          where id = any(array(select id from webhook_leases where id = any($9::uuid[]) for update skip locked))
       )
       select 1`,
      [
        claimed.map((d) => d.deliveryId),
        claimed.map((d) => d.attempt),
        claimed.map((d) => d.leaseId),
        paged.map((d) => d.deliveryId),
        paged.map((d) => d.endpointId),
        [...new Set(paged.map((d) => d.endpointId))],
        paged.map((d) => d.eventId),
        options.now ?? new Date(),
        options.completedLeases ?? [],
      ],
    ),
  );
}

/**
 * Turns pages whose lease ran out (their worker died, or could not record in time) back into
 * deliveries: each delivery a page lists is queued due at `now` (under the id drawn for it), but
 * those that already have a row (failed since, handed back, redelivered) and those whose success
 * was logged since the page was leased — whatever the endpoint's state now, as a delivery row
 * would have been kept through a disabling. An attempt that was under way is made again (at
 * least once; under the same `webhook-id`). At most `limit` pages a call, each taken by one
 * worker (`skip locked`) and deleted in the same statement. Returns how many pages it took and
 * how many deliveries it queued.
 */
export async function recoverWebhookLeases(
  orm: Orm,
  now: Date,
  limit = 10,
): Promise<{ pages: number; queued: number }> {
  // Every poll asks (one lookup, prepared); a page is recovered only after a worker died.
  const [expired] = await withConnection(orm.em, (sql) => sql(EXPIRED_LEASES, [now]));
  if (!expired?.due) return { pages: 0, queued: 0 };
  // Planned afresh, without sequential scans: a plan kept from a time when the delivery log was
  // small would read the whole log for what was delivered (and this runs rarely enough that
  // planning each time costs nothing that matters).
  const [row] = await inTransaction(orm.em, async (sql) => {
    await sql("set local enable_seqscan = off");
    return sql(RECOVER_LEASES, [now, limit]);
  });
  return { pages: Number(row?.pages ?? 0), queued: Number(row?.queued ?? 0) };
}

/** Whether a page's lease has run out (see `recoverWebhookLeases`). */
const EXPIRED_LEASES = prepared(
  "arcadia_expired_webhook_leases",
  "select exists (select 1 from webhook_leases where leased_until <= $1) as due",
);

/** See `recoverWebhookLeases` (sent as text: planned at each run). */
export const RECOVER_LEASES = `with ${ASYNC_COMMIT},
       gone as (
         delete from webhook_leases l
          where l.id = any(array(select id from webhook_leases where leased_until <= $1
                                  order by leased_until limit $2 for update skip locked))
         returning l.endpoint_ids, l.event_ids, l.delivery_ids, l.created_at
       ), listed as (
         select x.endpoint_id, x.event_id, x.delivery_id, g.created_at
           from gone g, unnest(g.endpoint_ids, g.event_ids, g.delivery_ids) as x(endpoint_id, event_id, delivery_id)
       ), delivered as (
         -- what was logged as delivered since the page was leased: each endpoint's log from then
         -- on, along its index (the log of a page's lifetime, not the endpoint's whole history)
         select a.endpoint_id, a.event_id
           from (select endpoint_id, min(created_at) as since from listed group by endpoint_id) k
          cross join lateral (
            select a.endpoint_id, a.event_id from webhook_attempts a
             where a.endpoint_id = k.endpoint_id and a.attempted_at >= k.since and a.succeeded
          ) a
       ), alive as (
         select w.id from webhook_endpoints w
          where w.id = any(array(select distinct l.endpoint_id from listed l))
            for key share of w
       ), queued as (
         insert into webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
         select l.delivery_id, l.endpoint_id, l.event_id, 'pending', 0, $1, $1
           from listed l
          where l.endpoint_id in (select id from alive)
            and not exists (select 1 from delivered d where d.endpoint_id = l.endpoint_id and d.event_id = l.event_id)
         on conflict (endpoint_id, event_id) do nothing
         returning 1
       )
       select (select count(*) from gone)::int as pages, (select count(*) from queued)::int as queued, setting
         from async_commit`;

/** What one attempt came to. `responseStatus` null: no HTTP answer (refused, timed out, unsafe). */
export interface AttemptOutcome {
  readonly delivery: DueDelivery;
  readonly attemptedAt: Date;
  readonly durationMs: number;
  readonly responseStatus: number | null;
  /** Why it failed, in a few words (never the response body, never a secret). */
  readonly error: string | null;
}

export interface AttemptRecorded {
  readonly succeeded: boolean;
  /** The delivery has spent its retry schedule. */
  readonly failed: boolean;
  /** This failure disabled the endpoint (5 days without a success). */
  readonly endpointDisabled: boolean;
}

/**
 * See `recordAttemptOutcomes`: in one query, prepared once per connection, the attempts logged,
 * their deliveries moved on (those that still hold this claim's lease), the endpoints that
 * answered marked healthy (written only when it says something new, or once a minute, so a busy
 * endpoint's row is not a hot spot), and the transaction set to commit without waiting for the
 * WAL flush (see ASYNC_COMMIT).
 */
export const RECORD_ATTEMPTS = prepared(
  "arcadia_record_webhook_attempts",
  `with ${ASYNC_COMMIT},
       -- one object per attempt, with short keys (the batch is sent as JSON text); a key left
       -- out is null (an error, a next attempt)
       x as (
         select * from json_to_recordset($1::json) as x(i uuid, d uuid, w uuid, e uuid, a int,
                l uuid, t timestamptz, ms int, s int, err text, st text, n timestamptz, k int)
       ), alive as (
         -- the endpoints logged for, each locked once (see FAN_OUT)
         select w.id from webhook_endpoints w
          where w.id = any(array(select distinct x.w from x))
            for key share of w
       ), log as (
         insert into webhook_attempts (id, delivery_id, endpoint_id, event_id, attempt, attempted_at, duration_ms, response_status, error, succeeded)
         select i, d, w, e, a, t, ms, s, err, st = 'succeeded' from x
          -- not for an endpoint deleted meanwhile (its log went with it)
          where x.w in (select id from alive)
       ), moved as (
         update webhook_deliveries d set status = x.st, next_attempt_at = x.n, leased_until = null, lease_id = null
           from x
          -- the deliveries by their keys (an array, so the plan looks them up by primary key and
          -- never scans the pending ones — unless it was made while the table held a few pages
          -- and nothing analysed it since: ARCHITECTURE.md); one that still holds this
          -- claim's lease is pending (only an outcome, which clears the lease, moves it on), so
          -- the status is not asked, which leaves the plan no reason to read the due index
          where d.id = any(array(select x.d from x where x.k is null)) and d.id = x.d
            and d.attempts = x.a and d.lease_id = x.l
       ), retried as (
         -- a first attempt handed over by a page's lease (k = 1) that failed: now a row, due for
         -- its retry (unless a row is there already: one queued by a redelivery, or by the
         -- recovery of a lease that ran out, which sends it again)
         insert into webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at,
                                         last_attempt_at)
         select x.d, x.w, x.e, x.st, x.a, x.n, $2, x.t from x
          where x.k = 1 and x.st <> 'succeeded' and x.w in (select id from alive)
         on conflict (endpoint_id, event_id) do nothing
       ), done as (
         -- the pages whose every attempt is now recorded or handed back; one that a recovery
         -- holds is left to it (waiting here for it, while it waits for a row inserted above,
         -- would deadlock)
         delete from webhook_leases
          where id = any(array(select id from webhook_leases where id = any($3::uuid[]) for update skip locked))
       ), stale as (
         -- the endpoints to mark, locked in the order of their ids (as every writer of several
         -- endpoint rows in one transaction locks them: see recordAttemptOutcomes), among
         -- those locked above, all of them first (an array): a row this statement had updated
         -- already could not be locked by it, and its attempts would go unlogged
         select w.id from webhook_endpoints w
          where w.id = any(array(select a.id from alive a where a.id in (select x.w from x where x.st = 'succeeded')))
            and (w.failing_since is not null or w.last_success_at is null
                 or w.last_success_at < $2::timestamptz - interval '1 minute')
          order by w.id
            for no key update of w
       ), healthy as (
         update webhook_endpoints w set last_success_at = $2, failing_since = null
          where w.id = any(array(select id from stale))
       )
     select setting from async_commit`,
);

/** Each outcome with what it makes of its delivery: delivered, due again at `next`, or failed. */
function judge(outcomes: readonly AttemptOutcome[], now: Date) {
  return outcomes.map((outcome) => {
    const succeeded = isSuccessfulStatus(outcome.responseStatus);
    const next = succeeded ? null : nextAttemptAfterFailure(outcome.delivery.attempt, now);
    return { outcome, succeeded, next, status: succeeded ? "succeeded" : next ? "pending" : "failed" };
  });
}

/** The batch as `RECORD_ATTEMPTS` reads it ($1): one object per attempt, with short keys. */
function attemptsText(judged: ReturnType<typeof judge>, now: Date): string {
  return JSON.stringify(
    judged.map(({ outcome, next, status }) => ({
      i: newId(now.getTime()),
      d: outcome.delivery.deliveryId,
      w: outcome.delivery.endpointId,
      e: outcome.delivery.eventId,
      a: outcome.delivery.attempt,
      l: outcome.delivery.leaseId,
      t: outcome.attemptedAt.toISOString(),
      ms: Math.round(outcome.durationMs),
      s: outcome.responseStatus ?? undefined,
      err: outcome.error ?? undefined,
      st: status,
      n: next?.toISOString(),
      k: outcome.delivery.paged ? 1 : undefined,
    })),
  );
}

/** `RECORD_ATTEMPTS`'s first parameter for these outcomes (for running the statement by hand). */
export function recordedAttemptsParameter(outcomes: readonly AttemptOutcome[], now: Date): string {
  return attemptsText(judge(outcomes, now), now);
}

/**
 * Logs attempts and moves their deliveries on, atomically (the dispatcher records what finished
 * meanwhile together, so a busy endpoint costs a query per batch, not per attempt): a 2xx
 * delivers; otherwise the next retry comes from the domain's schedule, or the delivery has failed.
 * A batch without a failure is one statement; with one, a transaction, since a failure that leaves
 * its endpoint without a success for 5 days disables it and records `webhook_endpoint.disabled`.
 * An attempt whose delivery no longer holds its claim's lease (claimed again after the lease ran
 * out, or redelivered) only adds its log line.
 */
export async function recordAttemptOutcomes(
  orm: Orm,
  outcomes: readonly AttemptOutcome[],
  now: Date,
  completedLeases: readonly string[] = [],
): Promise<AttemptRecorded[]> {
  if (outcomes.length === 0) return [];
  const judged = judge(outcomes, now);
  const healthy = new Set(judged.filter((j) => j.succeeded).map((j) => j.outcome.delivery.endpointId));
  // The endpoints that failed without a success in this batch, each with its first failure.
  const failing = new Map<string, Date>();
  for (const j of judged) {
    const endpointId = j.outcome.delivery.endpointId;
    if (j.succeeded || healthy.has(endpointId)) continue;
    const first = failing.get(endpointId);
    if (!first || j.outcome.attemptedAt < first) failing.set(endpointId, j.outcome.attemptedAt);
  }
  const attempts = attemptsText(judged, now);
  const record = (sql: Sql) => sql(RECORD_ATTEMPTS, [attempts, now, completedLeases]);
  // Endpoint rows are locked in the order of their ids wherever one transaction writes several
  // (the healthy mark in RECORD_ATTEMPTS; the failing ones below, all at once), so two workers
  // failing the same endpoints in opposite orders do not deadlock. Orders can still cross
  // between a batch's healthy marks and another's failures (a success for one endpoint and a
  // failure for another in each), and a deadlock rolls the whole batch back, nothing written: it
  // is recorded again (the same attempt ids, the same text), as a collection step is.
  return retryOnConflict(async () => {
    const disabledEndpoints = new Set<string>();
    // Only a failure can disable an endpoint, which takes more than one statement: a batch without
    // one is a single statement, atomic on its own (no BEGIN/COMMIT round trips).
    if (failing.size === 0) await withConnection(orm.em, record);
    else
      await inTransaction(orm.em, async (sql) => {
        await record(sql);
        // (in the order of their ids, all at once: the updates below wait for no other lock)
        await sql(ENDPOINTS_LOCKED_IN_ORDER, [[...failing.keys()]]);
        for (const [endpointId, firstFailure] of failing) {
          if (await failAndMaybeDisable(sql, endpointId, firstFailure, now))
            disabledEndpoints.add(endpointId);
        }
      });
    return judged.map((j) => ({
      succeeded: j.succeeded,
      failed: j.status === "failed",
      endpointDisabled: disabledEndpoints.has(j.outcome.delivery.endpointId),
    }));
  });
}

/** Locks endpoints' rows for an update, in the order of their ids. */
const ENDPOINTS_LOCKED_IN_ORDER = prepared(
  "arcadia_lock_webhook_endpoints",
  "select id from webhook_endpoints where id = any($1::uuid[]) order by id for no key update",
);

/**
 * Marks an endpoint failing since `firstFailure` (unless it already was) and disables it when that
 * makes 5 days without a success, recording its event. Returns whether it was disabled now.
 */
async function failAndMaybeDisable(
  sql: Sql,
  endpointId: string,
  firstFailure: Date,
  now: Date,
): Promise<boolean> {
  const [endpoint] = await sql(
    `update webhook_endpoints set failing_since = coalesce(failing_since, $1) where id = $2
     returning ${SHOWN_ENDPOINT_COLUMNS()}`,
    [firstFailure, endpointId],
  );
  if (!endpoint?.enabled || !endpointHasFailedTooLong(instant(endpoint.failing_since), now)) return false;
  await sql("update webhook_endpoints set enabled = false, disabled_at = $1, updated_at = $1 where id = $2", [
    now,
    endpointId,
  ]);
  // This transaction writes an event: it commits synchronously, like every change that does
  // (the recording statement before it had turned that off for the transaction).
  await sql("select set_config('synchronous_commit', 'on', true)");
  await recordEndpointDisabled(
    sql,
    { ...shownEndpointFromRow(endpoint), enabled: false, disabledAt: now, updatedAt: now },
    now,
  );
  return true;
}
