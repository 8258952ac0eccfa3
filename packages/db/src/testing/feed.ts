import { DATABASE_HORIZON } from "../events/horizon.ts";
import type { Orm } from "../orm.ts";

/** Waits until no recorded event is at or above `horizon` (an `xid8` SQL expression), or the timeout. */
async function waitForHorizon(orm: Orm, horizon: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ ok: boolean }[]>(`select not exists (select 1 from events where xid >= ${horizon}) as ok`);
    if (row?.ok || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Waits until every recorded event is below the feed's horizon (no older transaction still
 * running anywhere on the server), so the feed serves them all. Tests on a shared PostgreSQL
 * server need it: other suites' transactions hold the horizon back for a moment.
 */
export function waitForFeed(orm: Orm, timeoutMs = 30_000): Promise<void> {
  return waitForHorizon(orm, "pg_snapshot_xmin(pg_current_snapshot())", timeoutMs);
}

/**
 * Waits until every recorded event is below the webhook fan-out's horizon (no older transaction
 * of this database still running; see `DATABASE_HORIZON`), so a delivery round fans them all out.
 * Unlike `waitForFeed`, other databases' transactions on a shared server do not hold it back.
 */
export function waitForFanOut(orm: Orm, timeoutMs = 30_000): Promise<void> {
  return waitForHorizon(orm, DATABASE_HORIZON, timeoutMs);
}
