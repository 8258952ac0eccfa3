import type { Orm } from "../orm.ts";

/**
 * Waits until every recorded event is below the feed's horizon (no older transaction still
 * running anywhere on the server), so the feed and the webhook fan-out serve them all. Tests on a
 * shared PostgreSQL server need it: other suites' transactions hold the horizon back for a moment.
 */
export async function waitForFeed(orm: Orm, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ ok: boolean }[]>(
        "select not exists (select 1 from events where xid >= pg_snapshot_xmin(pg_current_snapshot())) as ok",
      );
    if (row?.ok || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
