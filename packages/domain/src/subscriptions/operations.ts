import type { Addon, PlanVersion } from "../catalog/catalog.ts";
import type { Deployment } from "../deployments/deployment.ts";
import type { ActorRef } from "../lifecycle/actors.ts";
import { actorColumns } from "../lifecycle/event.ts";
import type { DeploymentState } from "../lifecycle/states.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import { addDays, calendarMonthOf } from "../shared/periods.ts";
import { AddonAttachment, PlanChange, Subscription, type SubscriptionStatus } from "./subscription.ts";

const UNSUBSCRIBABLE: ReadonlySet<DeploymentState> = new Set(["cancelled", "archived"]);

/** The subscription status that mirrors a deployment state (SPEC §3.4). */
export function subscriptionStatusFor(state: DeploymentState): SubscriptionStatus {
  if (state === "paused") return "paused";
  if (state === "cancelled" || state === "archived") return "cancelled";
  return "active";
}

export interface NewSubscription {
  readonly id: string;
  readonly planChangeId: string;
  readonly deployment: Deployment;
  readonly planVersion: PlanVersion;
  readonly alreadySubscribed: boolean;
  readonly actor: ActorRef;
  readonly now: Date;
}

/** Binds a deployment to a plan version for the current UTC calendar month. */
export function createSubscription(
  input: NewSubscription,
): Result<{ subscription: Subscription; planChange: PlanChange }> {
  const { deployment, planVersion, now } = input;
  if (UNSUBSCRIBABLE.has(deployment.state)) {
    return fail("DEPLOYMENT_NOT_SUBSCRIBABLE", `A ${deployment.state} deployment cannot be subscribed.`, {
      state: deployment.state,
    });
  }
  if (input.alreadySubscribed) {
    return fail("ALREADY_SUBSCRIBED", "This deployment already has a subscription.");
  }
  const period = calendarMonthOf(now);
  const subscription = new Subscription({
    id: input.id,
    deploymentId: deployment.id,
    tenantId: deployment.tenantId,
    planVersion,
    status: subscriptionStatusFor(deployment.state),
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    trialEndsAt: deployment.state === "trial" ? addDays(now, planVersion.trialDays) : null,
    pendingPlanVersion: null,
    cancelledAt: null,
    endedAt: null,
    createdAt: now,
    updatedAt: now,
  });
  const planChange = new PlanChange({
    id: input.planChangeId,
    subscriptionId: subscription.id,
    fromPlanVersion: null,
    toPlanVersion: planVersion,
    sequence: 1,
    kind: "initial",
    requestedAt: now,
    effectiveAt: now,
    ...actorColumns(input.actor),
    supersededAt: null,
  });
  return ok({ subscription, planChange });
}

/**
 * Keeps the subscription's status in step with a deployment transition: paused while paused,
 * resumed on paused→active, cancelled (from that instant) on →cancelled.
 */
export function followDeploymentState(
  subscription: Pick<Subscription, "status" | "cancelledAt" | "updatedAt">,
  state: DeploymentState,
  now: Date,
): void {
  const status = subscriptionStatusFor(state);
  if (status === subscription.status) return;
  if (subscription.status === "cancelled") return; // cancellation is final
  subscription.status = status;
  if (status === "cancelled") subscription.cancelledAt = now;
  subscription.updatedAt = now;
}

function refuseIfCancelled(subscription: Subscription): Result<void> {
  if (subscription.status === "cancelled") {
    return fail("DEPLOYMENT_NOT_SUBSCRIBABLE", "The subscription is cancelled.", {
      status: subscription.status,
    });
  }
  return ok(undefined);
}

/** Snapshots the live add-on's kind, quantity, price and currency at this instant. */
export function attachAddon(
  subscription: Subscription,
  addon: Addon,
  input: { id: string; now: Date },
): Result<AddonAttachment> {
  const open = refuseIfCancelled(subscription);
  if (!open.ok) return open;
  if (!addon.active)
    return fail("UNKNOWN_ADDON", `Add-on ${addon.code} is not available.`, { code: addon.code });
  if (addon.currency !== subscription.planVersion.currency) {
    return fail(
      "CURRENCY_MISMATCH",
      `Add-on ${addon.code} is priced in ${addon.currency}, the plan in ${subscription.planVersion.currency}.`,
      {
        addonCurrency: addon.currency,
        planCurrency: subscription.planVersion.currency,
      },
    );
  }
  return ok(
    new AddonAttachment({
      id: input.id,
      subscriptionId: subscription.id,
      addonCode: addon.code,
      resourceKind: addon.resourceKind,
      qty: addon.qty,
      priceCents: addon.priceCents,
      currency: addon.currency,
      attachedAt: input.now,
      detachedAt: null,
    }),
  );
}

/** Ends an attachment; it is kept for billing history. */
export function detachAddon(attachment: AddonAttachment, now: Date): Result<AddonAttachment> {
  if (attachment.detachedAt !== null) {
    return fail("CONFLICT", "This add-on is already detached.", {
      detachedAt: attachment.detachedAt.toISOString(),
    });
  }
  attachment.detachedAt = now;
  return ok(attachment);
}

export type ChangeEffective = "immediate" | "period_end";

export interface PlanChangeInput {
  readonly id: string;
  readonly target: PlanVersion;
  readonly effective: ChangeEffective;
  readonly actor: ActorRef;
  readonly now: Date;
  /** Scheduled changes not yet in effect; a new request replaces them. */
  readonly scheduled: readonly PlanChange[];
  /** The highest `sequence` in the subscription's plan-change log: the new change comes after it. */
  readonly lastSequence: number;
}

/** Where a period-end change takes effect: the end of the period in progress at `now`. */
function periodEndAt(subscription: Subscription, now: Date): Date {
  return subscription.currentPeriodEnd.getTime() > now.getTime()
    ? subscription.currentPeriodEnd
    : calendarMonthOf(now).end;
}

/**
 * Changes the plan version now (billing is prorated across the change) or at the end of the
 * period (stored as pending, applied at rollover). Any earlier scheduled change is superseded:
 * the newest request is the customer's intent. Add-on snapshots are untouched.
 */
export function changePlan(subscription: Subscription, input: PlanChangeInput): Result<PlanChange | null> {
  const open = refuseIfCancelled(subscription);
  if (!open.ok) return open;
  const { target, now } = input;
  const current = subscription.planVersion;
  if (target.currency !== current.currency) {
    return fail(
      "CURRENCY_MISMATCH",
      `Plan version is priced in ${target.currency}, the subscription in ${current.currency}.`,
      {
        targetCurrency: target.currency,
        currentCurrency: current.currency,
      },
    );
  }
  const alreadyOn = target.id === current.id;
  if (alreadyOn && (input.effective === "immediate" || input.scheduled.length === 0)) {
    return fail("CONFLICT", "The subscription is already on this plan version.", {
      planVersionId: target.id,
    });
  }
  for (const scheduled of input.scheduled) scheduled.supersededAt = now;
  subscription.pendingPlanVersion = null;
  subscription.updatedAt = now;
  if (alreadyOn) return ok(null); // a period-end change back to the current version cancels the pending one

  const effectiveAt = input.effective === "immediate" ? now : periodEndAt(subscription, now);
  const change = new PlanChange({
    id: input.id,
    subscriptionId: subscription.id,
    sequence: input.lastSequence + 1,
    fromPlanVersion: current,
    toPlanVersion: target,
    kind: input.effective,
    requestedAt: now,
    effectiveAt,
    ...actorColumns(input.actor),
    supersededAt: null,
  });
  if (input.effective === "immediate") subscription.planVersion = target;
  else subscription.pendingPlanVersion = target;
  return ok(change);
}
