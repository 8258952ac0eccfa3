import type { PlanVersion } from "../catalog/catalog.ts";
import type { Deployment } from "../deployments/deployment.ts";
import { transitionDeployment } from "../deployments/operations.ts";
import type { DeploymentEvent } from "../lifecycle/event.ts";
import type { Result } from "../shared/errors.ts";
import { followingPeriod, laterOf, type Period } from "../shared/periods.ts";
import type { PlanChange, Subscription } from "../subscriptions/subscription.ts";

export const WORKER_ACTOR_ID = "billing-worker";

/** The subscription's current period, if it has ended by `now` and is still to be billed. */
export function duePeriod(subscription: Subscription, now: Date): Period | null {
  if (subscription.endedAt !== null) return null;
  if (subscription.currentPeriodEnd.getTime() > now.getTime()) return null;
  return { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
}

/**
 * The changes in force in the order they apply: by effective instant, and among changes effective
 * at the same instant in the order they were made (`sequence`), so the last one made holds (SPEC
 * §3.4). Instants alone tie: a frozen test clock, or two changes within one millisecond.
 */
export function inForce<T extends Pick<PlanChange, "supersededAt" | "effectiveAt" | "sequence">>(
  changes: readonly T[],
): T[] {
  return changes
    .filter((change) => change.supersededAt === null)
    .sort((a, b) => a.effectiveAt.getTime() - b.effectiveAt.getTime() || a.sequence - b.sequence);
}

/** The plan version in effect at an instant, read from the plan-change log. */
export function planVersionAt(changes: readonly PlanChange[], instant: Date): PlanVersion | null {
  let found: PlanVersion | null = null;
  for (const change of inForce(changes)) {
    if (change.effectiveAt.getTime() <= instant.getTime()) found = change.toPlanVersion;
  }
  return found;
}

/** Scheduled changes that have not taken effect at this instant. */
export function scheduledAfter(changes: readonly PlanChange[], instant: Date): PlanChange[] {
  return inForce(changes).filter((change) => change.effectiveAt.getTime() > instant.getTime());
}

/**
 * Closes the subscription's current period after its statement is issued: a cancelled
 * subscription whose cancellation fell before the period's end ends there; any other moves to the
 * next calendar month, with the plan-change log deciding the plan version and what stays pending.
 */
export function rollOverPeriod(
  subscription: Subscription,
  changes: readonly PlanChange[],
  now: Date,
): Period | null {
  const closed: Period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  subscription.updatedAt = now;
  if (
    subscription.status === "cancelled" &&
    subscription.cancelledAt !== null &&
    subscription.cancelledAt.getTime() < closed.end.getTime()
  ) {
    subscription.endedAt = closed.end;
    return null;
  }
  const next = followingPeriod(closed);
  subscription.currentPeriodStart = next.start;
  subscription.currentPeriodEnd = next.end;
  subscription.planVersion = planVersionAt(changes, next.start) ?? subscription.planVersion;
  subscription.pendingPlanVersion = scheduledAfter(changes, next.start)[0]?.toPlanVersion ?? null;
  return next;
}

export function trialHasEnded(deployment: Deployment, subscription: Subscription, now: Date): boolean {
  return (
    deployment.state === "trial" &&
    subscription.trialEndsAt !== null &&
    subscription.trialEndsAt.getTime() <= now.getTime()
  );
}

/**
 * Converts an ended trial to active as the system. The event is dated when the trial ended (so
 * billing starts then, even if the worker runs late), but never before the newest event nor inside
 * a period that has already been billed.
 */
export function convertTrial(
  deployment: Deployment,
  subscription: Subscription,
  input: { eventId: string; lastEventAt: Date; workerId?: string },
): Result<DeploymentEvent> {
  const trialEndsAt = subscription.trialEndsAt ?? subscription.currentPeriodStart;
  const occurredAt = laterOf(laterOf(trialEndsAt, input.lastEventAt), subscription.currentPeriodStart);
  return transitionDeployment(deployment, {
    to: "active",
    actor: { type: "system", id: input.workerId ?? WORKER_ACTOR_ID },
    reason: "trial ended",
    eventId: input.eventId,
    now: occurredAt,
  });
}
