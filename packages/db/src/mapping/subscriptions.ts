import {
  AddonAttachment,
  Deployment,
  normalizeDecimal,
  PLAN_CHANGE_KINDS,
  PlanChange,
  PlanVersion,
  ROLES,
  SUBSCRIPTION_STATUSES,
  Subscription,
  Tenant,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { planVersionFromRow } from "./catalog.ts";
import { instant as at, instantOrNull as atOrNull, type Row } from "./rows.ts";
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

/**
 * A `subscriptions` row with its plan version and pending plan version as `v_…` and `pv_…` columns
 * (`SUBSCRIPTION_COLUMNS` in `subscriptions/queries.ts`). `versions` shares plan versions within one read.
 */
export function subscriptionFromRow(s: Row, versions = new Map<string, PlanVersion>()): Subscription {
  return new Subscription({
    id: s.id as string,
    deploymentId: s.deployment_id as string,
    tenantId: s.tenant_id as string,
    planVersion: planVersionFromRow(s, "v_", versions)!,
    status: s.status as Subscription["status"],
    currentPeriodStart: at(s.current_period_start),
    currentPeriodEnd: at(s.current_period_end),
    trialEndsAt: atOrNull(s.trial_ends_at),
    pendingPlanVersion: planVersionFromRow(s, "pv_", versions),
    cancelledAt: atOrNull(s.cancelled_at),
    endedAt: atOrNull(s.ended_at),
    createdAt: at(s.created_at),
    updatedAt: at(s.updated_at),
  });
}

/** A `subscription_addons` row (`ADDON_ATTACHMENT_COLUMNS` in `subscriptions/queries.ts`); qty and price as text. */
export function addonAttachmentFromRow(a: Row): AddonAttachment {
  return new AddonAttachment({
    id: a.id as string,
    subscriptionId: a.subscription_id as string,
    addonCode: a.addon_code as string,
    resourceKind: a.resource_kind as string,
    qty: normalizeDecimal(String(a.qty)),
    priceCents: Number(a.price_cents),
    currency: a.currency as string,
    attachedAt: at(a.attached_at),
    detachedAt: atOrNull(a.detached_at),
  });
}

/**
 * A `subscription_plan_changes` row with its plan versions as `f_…` and `t_…` columns
 * (`PLAN_CHANGE_COLUMNS` in `subscriptions/queries.ts`).
 */
export function planChangeFromRow(c: Row, versions = new Map<string, PlanVersion>()): PlanChange {
  return new PlanChange({
    id: c.id as string,
    subscriptionId: c.subscription_id as string,
    sequence: Number(c.sequence),
    fromPlanVersion: planVersionFromRow(c, "f_", versions),
    toPlanVersion: planVersionFromRow(c, "t_", versions)!,
    kind: c.kind as PlanChange["kind"],
    requestedAt: at(c.requested_at),
    effectiveAt: at(c.effective_at),
    actorType: c.actor_type as PlanChange["actorType"],
    actorId: c.actor_id as string,
    actorRole: (c.actor_role as PlanChange["actorRole"]) ?? null,
    supersededAt: atOrNull(c.superseded_at),
  });
}
