import type { Deployment } from "../deployments/deployment.ts";
import { transitionDeployment } from "../deployments/operations.ts";
import type { DeploymentEvent } from "../lifecycle/event.ts";
import type { Result } from "../shared/errors.ts";
import type { Cents } from "../shared/money.ts";
import { followingPeriod, laterOf, type Period } from "../shared/periods.ts";
import type { Subscription, SubscriptionStatus } from "../subscriptions/subscription.ts";
import type { StateChange } from "./billable-time.ts";
import {
  type AttachmentSource,
  type ComputedInvoice,
  inEffectOrder,
  invoiceForPeriod,
  type PlanSegmentSource,
} from "./invoice.ts";

export const WORKER_ACTOR_ID = "billing-worker";

/** A plan version as billing reads it (the catalog's PlanVersion is one). */
export interface BilledPlanVersion {
  readonly id: string;
  readonly version: number;
  readonly priceCents: Cents;
  readonly currency: string;
  readonly plan: { readonly code: string };
}

/** An entry of the plan-change log as billing reads it (the domain's PlanChange is one). */
export interface BilledPlanChange {
  readonly toPlanVersion: BilledPlanVersion;
  readonly effectiveAt: Date;
  /** The change's place in the subscription's log (see inEffectOrder). */
  readonly sequence: number;
  readonly supersededAt: Date | null;
}

/** What billing needs of a subscription (the domain's Subscription is one). */
export interface BilledSubscription {
  readonly status: SubscriptionStatus;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly cancelledAt: Date | null;
  readonly endedAt: Date | null;
  readonly createdAt: Date;
  /** The plan version in effect; its currency is every invoice's (a plan change keeps the currency). */
  readonly planVersion: { readonly id: string; readonly currency: string };
}

/** Everything billing reads about one subscription: the snapshots and the deployment's event log. */
export interface BillingHistory {
  readonly subscription: BilledSubscription;
  /** The whole plan-change log, superseded entries included (they never apply), in any order. */
  readonly planChanges: readonly BilledPlanChange[];
  readonly attachments: readonly AttachmentSource[];
  /** The deployment's event log (at least up to the periods billed), in any order. */
  readonly events: readonly StateChange[];
}

/** Where a subscription stands after its due periods are closed. */
export interface NextBillingState {
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly endedAt: Date | null;
  readonly planVersionId: string;
  readonly pendingPlanVersionId: string | null;
}

/** The plan-change log without superseded entries (a superseded change never applies), in effect order. */
function inForce(changes: readonly BilledPlanChange[]): BilledPlanChange[] {
  return changes.filter((change) => change.supersededAt === null).sort(inEffectOrder);
}

/** The plan-change log as the segments an invoice bills: each version from when it took effect. */
function planSegments(changes: readonly BilledPlanChange[]): PlanSegmentSource[] {
  return inForce(changes).map((change) => ({
    effectiveAt: change.effectiveAt,
    sequence: change.sequence,
    planVersion: {
      id: change.toPlanVersion.id,
      planCode: change.toPlanVersion.plan.code,
      version: change.toPlanVersion.version,
      priceCents: change.toPlanVersion.priceCents,
    },
  }));
}

/** The plan version in effect at an instant, read from the plan-change log. */
function planVersionAt(changes: readonly BilledPlanChange[], instant: Date): BilledPlanVersion | null {
  let found: BilledPlanVersion | null = null;
  for (const change of inForce(changes)) {
    if (change.effectiveAt.getTime() <= instant.getTime()) found = change.toPlanVersion;
  }
  return found;
}

/** A period is due once it has ended, unless the subscription's last period is already billed. */
function isDue(state: { endedAt: Date | null; currentPeriodEnd: Date }, now: Date): boolean {
  return state.endedAt === null && state.currentPeriodEnd.getTime() <= now.getTime();
}

function invoiceFor(history: BillingHistory, period: Period): ComputedInvoice {
  return invoiceForPeriod({
    period,
    currency: history.subscription.planVersion.currency,
    subscribedAt: history.subscription.createdAt,
    planChanges: planSegments(history.planChanges),
    attachments: history.attachments,
    events: history.events,
  });
}

/** The invoice of the period in progress, as things stand: the upcoming invoice (not stored). */
export function currentPeriodInvoice(history: BillingHistory): ComputedInvoice {
  const { subscription } = history;
  return invoiceFor(history, {
    start: subscription.currentPeriodStart,
    end: subscription.currentPeriodEnd,
  });
}

/**
 * Closes a subscription's due periods at `now`: one invoice per period that has ended (at most
 * `maxPeriods`; the rest are due again next time), and where the subscription then stands. After
 * each period, a subscription cancelled before the period's end ends there; any other moves to the
 * next calendar month, on the plan version the log puts in effect then, with the next scheduled
 * change pending.
 */
export function closeDuePeriods(
  history: BillingHistory,
  now: Date,
  maxPeriods: number,
): { invoices: ComputedInvoice[]; next: NextBillingState } {
  const { subscription } = history;
  const invoices: ComputedInvoice[] = [];
  let period: Period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  let endedAt = subscription.endedAt;
  let planVersionId = subscription.planVersion.id;
  let pendingPlanVersionId: string | null = null;
  let closed = 0;
  while (closed < maxPeriods && isDue({ endedAt, currentPeriodEnd: period.end }, now)) {
    invoices.push(invoiceFor(history, period));
    closed += 1;
    const cancelledBefore =
      subscription.status === "cancelled" &&
      subscription.cancelledAt !== null &&
      subscription.cancelledAt.getTime() < period.end.getTime();
    if (cancelledBefore) {
      endedAt = period.end;
      break;
    }
    period = followingPeriod(period);
    planVersionId = planVersionAt(history.planChanges, period.start)?.id ?? planVersionId;
    const scheduled = inForce(history.planChanges).find(
      (change) => change.effectiveAt.getTime() > period.start.getTime(),
    );
    pendingPlanVersionId = scheduled?.toPlanVersion.id ?? null;
  }
  return {
    invoices,
    next: {
      currentPeriodStart: period.start,
      currentPeriodEnd: period.end,
      endedAt,
      planVersionId,
      pendingPlanVersionId,
    },
  };
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
