import { Subscription } from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * Locks a deployment's subscription row (FOR UPDATE) and then reads it fresh. The lock is taken on
 * the bare row because PostgreSQL cannot lock the outer-joined plan versions loaded with it.
 */
export async function lockSubscriptionOf(
  em: EntityManager,
  deploymentId: string,
): Promise<Subscription | null> {
  const locked = await em
    .createQueryBuilder(Subscription)
    .select("id")
    .where({ deploymentId })
    .setLockMode(LockMode.PESSIMISTIC_WRITE)
    .execute("all");
  if (locked.length === 0) return null;
  return em.findOne(Subscription, { deploymentId }, { refresh: true });
}
