import { DATABASE_HORIZON } from "../events/horizon.ts";
import { recordEvents } from "../events/outbox.ts";
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
 * Waits until every recorded event is below the horizon of the feed and of the webhook fan-out (no
 * older transaction of this database still running; see `DATABASE_HORIZON`), so the feed serves
 * them all and a delivery round fans them all out.
 */
export function waitForFeed(orm: Orm, timeoutMs = 30_000): Promise<void> {
  return waitForHorizon(orm, DATABASE_HORIZON, timeoutMs);
}

/** `waitForFeed`, by the name the webhook suites use: the fan-out reads below the same horizon. */
export const waitForFanOut = waitForFeed;

/**
 * Commits `count` events of one tenant in one transaction (`deployment.updated`, `data: { n }`,
 * `n` from 0), dated `at`: a backlog for the webhook suites, without the changes behind it.
 */
export async function recordTenantEvents(orm: Orm, tenantId: string, count: number, at: Date): Promise<void> {
  await orm.em.fork().transactional((em) =>
    recordEvents(
      em,
      Array.from({ length: count }, (_, n) => ({
        type: "deployment.updated" as const,
        tenantId,
        occurredAt: at,
        data: { n },
      })),
    ),
  );
}
