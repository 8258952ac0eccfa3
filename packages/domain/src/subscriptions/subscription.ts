import type { PlanVersion } from "../catalog/catalog.ts";
import type { ActorRef, Role } from "../lifecycle/actors.ts";
import type { DecimalString } from "../shared/decimal.ts";
import type { Cents } from "../shared/money.ts";

export const SUBSCRIPTION_STATUSES = ["active", "paused", "cancelled"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A deployment's binding to a plan version, with its current billing period. */
export class Subscription {
  id!: string;
  deploymentId!: string;
  tenantId!: string;
  planVersion!: PlanVersion;
  status!: SubscriptionStatus;
  currentPeriodStart!: Date;
  currentPeriodEnd!: Date;
  trialEndsAt!: Date | null;
  /** A change scheduled for the end of the current period, or null. */
  pendingPlanVersion!: PlanVersion | null;
  cancelledAt!: Date | null;
  /** Set when the last period of a cancelled subscription has been billed: no further periods. */
  endedAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(props: { [K in keyof Subscription]: Subscription[K] }) {
    Object.assign(this, props);
  }
}

/** An add-on attached to a subscription, with the live add-on's terms copied at attach time. */
export class AddonAttachment {
  id!: string;
  subscriptionId!: string;
  addonCode!: string;
  resourceKind!: string;
  qty!: DecimalString;
  priceCents!: Cents;
  currency!: string;
  attachedAt!: Date;
  detachedAt!: Date | null;

  constructor(props: { [K in keyof AddonAttachment]: AddonAttachment[K] }) {
    Object.assign(this, props);
  }
}

export const PLAN_CHANGE_KINDS = ["initial", "immediate", "period_end"] as const;
export type PlanChangeKind = (typeof PLAN_CHANGE_KINDS)[number];

/**
 * One entry of a subscription's plan-version history: from which version to which, asked by whom
 * and when, effective from when. Plan segments for billing are read from this log.
 */
export class PlanChange {
  id!: string;
  subscriptionId!: string;
  /**
   * 1, 2, 3… per subscription in the order the changes were made: the total order of the log
   * (instants tie under a frozen clock or within a millisecond; the last change made holds).
   */
  sequence!: number;
  fromPlanVersion!: PlanVersion | null;
  toPlanVersion!: PlanVersion;
  kind!: PlanChangeKind;
  requestedAt!: Date;
  effectiveAt!: Date;
  actorType!: ActorRef["type"];
  actorId!: string;
  actorRole!: Role | null;
  /** Set when a scheduled change was replaced before it took effect; such a change never applies. */
  supersededAt!: Date | null;

  constructor(props: { [K in keyof PlanChange]: PlanChange[K] }) {
    Object.assign(this, props);
  }
}
