import type { Orm } from "../orm.ts";

/** How long a stored response is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes stored responses older than the replay window, in bounded chunks (so no long lock is
 * held). Returns how many were removed. The worker runs it on every pass.
 */
export async function pruneIdempotencyKeys(orm: Orm, now: Date, chunk = 5000): Promise<number> {
  const before = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  let removed = 0;
  for (;;) {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute(
        "delete from idempotency_keys where id in (select id from idempotency_keys where created_at < ? limit ?) returning id",
        [before, chunk],
      );
    removed += rows.length;
    if (rows.length < chunk) return removed;
  }
}
