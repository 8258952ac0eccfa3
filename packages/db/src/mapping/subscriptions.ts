import {
  AddonAttachment,
  Deployment,
  PLAN_CHANGE_KINDS,
  PlanChange,
  PlanVersion,
  ROLES,
  SUBSCRIPTION_STATUSES,
  Subscription,
  Tenant,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { instant, moneyType, oneOf, QuantityType } from "./types.ts";

export const SubscriptionSchema = new EntitySchema<Subscription>({
  class: Subscription,
  tableName: "subscriptions",
  properties: {
    id: { type: "uuid", primary: true },
    deploymentId: {
      kind: "m:1",
      entity: () => Deployment,
      mapToPk: true,
      fieldName: "deployment_id",
      unique: "subscriptions_deployment_unique",
    },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id" },
    planVersion: { kind: "m:1", entity: () => PlanVersion, eager: true },
    status: { type: "text", enum: true, items: () => SUBSCRIPTION_STATUSES as unknown as string[] },
    currentPeriodStart: { ...instant },
    currentPeriodEnd: { ...instant },
    trialEndsAt: { ...instant, nullable: true },
    pendingPlanVersion: { kind: "m:1", entity: () => PlanVersion, nullable: true, eager: true },
    cancelledAt: { ...instant, nullable: true },
    endedAt: { ...instant, nullable: true },
    createdAt: { ...instant },
    updatedAt: { ...instant },
  },
  // The worker claims due rows in (current_period_end, id) order: this index makes each batch a range scan.
  indexes: [{ name: "subscriptions_due_index", properties: ["currentPeriodEnd", "id"] }],
  checks: [
    { name: "subscriptions_period_check", expression: "current_period_end > current_period_start" },
    {
      name: "subscriptions_cancelled_check",
      expression: "(status = 'cancelled') = (cancelled_at is not null)",
    },
  ],
});

export const AddonAttachmentSchema = new EntitySchema<AddonAttachment>({
  class: AddonAttachment,
  tableName: "subscription_addons",
  properties: {
    id: { type: "uuid", primary: true },
    subscriptionId: { kind: "m:1", entity: () => Subscription, mapToPk: true, fieldName: "subscription_id" },
    addonCode: { type: "text" },
    resourceKind: { type: "text" },
    qty: { type: QuantityType },
    priceCents: { type: moneyType() },
    currency: { type: "text" },
    attachedAt: { ...instant },
    detachedAt: { ...instant, nullable: true },
  },
  indexes: [{ name: "subscription_addons_subscription_index", properties: ["subscriptionId", "attachedAt"] }],
  checks: [
    { name: "subscription_addons_price_check", expression: "price_cents >= 0" },
    { name: "subscription_addons_qty_check", expression: "qty > 0" },
    {
      name: "subscription_addons_detached_check",
      expression: "detached_at is null or detached_at >= attached_at",
    },
  ],
});

export const PlanChangeSchema = new EntitySchema<PlanChange>({
  class: PlanChange,
  tableName: "subscription_plan_changes",
  properties: {
    id: { type: "uuid", primary: true },
    subscriptionId: { kind: "m:1", entity: () => Subscription, mapToPk: true, fieldName: "subscription_id" },
    sequence: { type: "int" },
    fromPlanVersion: { kind: "m:1", entity: () => PlanVersion, nullable: true, eager: true },
    toPlanVersion: { kind: "m:1", entity: () => PlanVersion, eager: true },
    kind: { type: "text", enum: true, items: () => PLAN_CHANGE_KINDS as unknown as string[] },
    requestedAt: { ...instant },
    effectiveAt: { ...instant },
    actorType: { type: "text" },
    actorId: { type: "text" },
    actorRole: { type: "text", nullable: true },
    supersededAt: { ...instant, nullable: true },
  },
  indexes: [
    { name: "subscription_plan_changes_subscription_index", properties: ["subscriptionId", "effectiveAt"] },
  ],
  uniques: [
    { name: "subscription_plan_changes_sequence_unique", properties: ["subscriptionId", "sequence"] },
  ],
  checks: [
    { name: "subscription_plan_changes_sequence_check", expression: "sequence >= 1" },
    {
      name: "subscription_plan_changes_actor_check",
      expression: `(actor_type = 'system' and actor_role is null) or (actor_type = 'principal' and actor_role is not null and ${oneOf("actor_role", ROLES)})`,
    },
  ],
});
