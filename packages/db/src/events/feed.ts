import { DomainError, type EventType, type Principal, tenantToList } from "@arcadia/domain";
import { EVENT_COLUMNS, eventFromRow } from "../mapping/events.ts";
import type { Orm } from "../orm.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { pageLimit } from "../shared/pagination.ts";
import { type Row, withConnection } from "../shared/sql.ts";
import { DATABASE_HORIZON } from "./horizon.ts";

/** An event as stored: the body of its webhook and of its feed entry. */
export interface StoredEvent {
  readonly id: string;
  readonly type: EventType;
  /** Null for a platform event (a platform-wide endpoint disabled): platform admins see it, no tenant does. */
  readonly tenantId: string | null;
  readonly occurredAt: Date;
  readonly data: unknown;
}

/**
 * A place in the feed: every event of a transaction older than `xid`, and those of transaction
 * `xid` up to `position`, have been seen.
 */
export interface FeedPosition {
  readonly xid: string;
  readonly position: string;
}

export const FEED_START: FeedPosition = { xid: "0", position: "0" };

export interface EventPage {
  readonly items: StoredEvent[];
  /** Never null: on the last page, where to resume from later. */
  readonly nextCursor: string;
}

const DIGITS = /^\d{1,20}$/;

export function encodeFeedCursor(p: FeedPosition): string {
  return Buffer.from(`${p.xid}.${p.position}`).toString("base64url");
}

export function decodeFeedCursor(cursor: string | undefined): FeedPosition {
  if (!cursor) return FEED_START;
  const [xid, position, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split(".");
  if (rest.length > 0 || !xid || !position || !DIGITS.test(xid) || !DIGITS.test(position)) {
    throw new DomainError("VALIDATION_FAILED", "The cursor is not valid.", {
      fields: { after: "not a cursor from this API" },
    });
  }
  return { xid, position };
}

/**
 * Events after `after` in feed order, read only below the horizon: the oldest transaction of this
 * database still running (`DATABASE_HORIZON`; only those can still commit events here, so another
 * database's long transaction on a shared server does not hold the feed back). A transaction older
 * than that has committed or rolled back, and any transaction that writes later gets a larger id,
 * so the part of the feed below the horizon never changes again — a reader that walks it in
 * (xid, position) order and resumes from its last place sees every event exactly once, whatever
 * order transactions commit in.
 */
export const FEED_PAGE = `select e.position::text as position, e.xid::text as xid, ${EVENT_COLUMNS("e")}
   from (select ${DATABASE_HORIZON} as horizon) h
   left join lateral (
     select e.position, e.xid, ${EVENT_COLUMNS("e")} from events e
      where ($1::uuid is null or e.tenant_id = $1)
        and ($2::text[] is null or e.type = any($2::text[]))
        and (e.xid, e.position) > ($3::xid8, $4::bigint)
        and e.xid < h.horizon
      order by e.xid, e.position
      limit $5
   ) e on true`;

export interface EventQuery {
  readonly after?: string;
  readonly types?: readonly EventType[];
  readonly limit?: number;
  readonly tenantId?: string;
}

/** Reads one page of the feed at `from`, with the position to continue from. */
export async function readFeedPage(
  run: (text: string, params: unknown[]) => Promise<Row[]>,
  from: FeedPosition,
  options: { tenantId: string | null; types: readonly string[] | null; limit: number },
): Promise<{ rows: Row[]; next: FeedPosition }> {
  const result = await run(FEED_PAGE, [
    options.tenantId,
    options.types,
    from.xid,
    from.position,
    options.limit,
  ]);
  const rows = result.filter((r) => r.id !== null);
  const last = rows.at(-1);
  // The cursor names the last event served (or stays where it was): the same request gives the
  // same answer, whatever the horizon has moved to meanwhile.
  return { rows, next: last ? { xid: last.xid as string, position: last.position as string } : from };
}

/**
 * The feed of SPEC §3.9, scoped to the principal's tenant (platform admins: all, platform events
 * included, or one tenant's with `tenantId`). A tenant's scope never matches a platform event
 * (`tenant_id = $1` is not true for null).
 */
export async function listEvents(
  ctx: UseCaseContext,
  principal: Principal,
  query: EventQuery,
): Promise<EventPage> {
  const limit = pageLimit(query.limit);
  const from = decodeFeedCursor(query.after);
  const tenantId = tenantToList(principal, query.tenantId) ?? null;
  if (tenantId !== null && !isUuid(tenantId)) return { items: [], nextCursor: encodeFeedCursor(from) };
  const types = query.types && query.types.length > 0 ? query.types : null;
  const { rows, next } = await withConnection(ctx.sqlEm, (sql) =>
    readFeedPage(sql, from, { tenantId, types, limit }),
  );
  return { items: rows.map(eventFromRow), nextCursor: encodeFeedCursor(next) };
}

export async function getEvent(ctx: UseCaseContext, principal: Principal, id: string): Promise<StoredEvent> {
  if (!isUuid(id)) throw notFound("Event");
  const [row] = await withConnection(ctx.sqlEm, (sql) =>
    sql("select id, type, tenant_id, occurred_at, data from events where id = $1", [id]),
  );
  return visible(row ? eventFromRow(row) : null, principal, "Event");
}

/** Events are kept at least 30 days (SPEC §3.9); older ones go in bounded chunks. */
export const EVENT_RETENTION_MS = 35 * 24 * 60 * 60 * 1000;

/**
 * Deletes events recorded more than `EVENT_RETENTION_MS` ago, in bounded chunks. "Ago" on the
 * database's own clock, the one `recorded_at` is written by: never on a pass's instant, which
 * `pnpm worker --once --now <time>` may put weeks ahead (that would delete events the fan-out and
 * the feed's consumers have not read yet).
 */
export async function pruneEvents(orm: Orm, chunk = 5000): Promise<number> {
  let removed = 0;
  for (;;) {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute(
        `delete from events where position in (
           select position from events
            where recorded_at < now() - make_interval(secs => ${EVENT_RETENTION_MS / 1000}) limit ?)
         returning position`,
        [chunk],
      );
    removed += rows.length;
    if (rows.length < chunk) return removed;
  }
}
