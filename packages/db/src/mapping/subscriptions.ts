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
import { planVersionFromRow } from "./catalog.ts";
import { rowMapping } from "./row-mapping.ts";
import type { Row } from "./rows.ts";
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

const SUBSCRIPTION_ROWS = rowMapping(SubscriptionSchema, Subscription, ["planVersion", "pendingPlanVersion"]);

/**
 * The subscriptions columns `subscriptionFromRow` reads; its plan versions come as
 * `VERSION_COLUMNS(…, "v_")` and `VERSION_COLUMNS(…, "pv_")` beside them.
 */
export const SUBSCRIPTION_COLUMNS = (alias: string) => SUBSCRIPTION_ROWS.columns(alias);

/**
 * A `subscriptions` row with its plan version and pending plan version as `v_…` and `pv_…` columns
 * (`SUBSCRIPTION_COLUMNS`). `versions` shares plan versions within one read.
 */
export function subscriptionFromRow(s: Row, versions = new Map<string, PlanVersion>()): Subscription {
  const planVersion = planVersionFromRow(s, "v_", versions);
  if (!planVersion) throw new Error(`subscription ${String(s.id)} was read without its plan version`);
  return SUBSCRIPTION_ROWS.fromRow(s, {
    planVersion,
    pendingPlanVersion: planVersionFromRow(s, "pv_", versions),
  });
}

const ADDON_ATTACHMENT_ROWS = rowMapping(AddonAttachmentSchema, AddonAttachment);

/** The subscription_addons columns `addonAttachmentFromRow` reads (amounts and quantities as text). */
export const ADDON_ATTACHMENT_COLUMNS = (alias: string) => ADDON_ATTACHMENT_ROWS.columns(alias);

/** An add-on attachment as the argument list of `json_build_object` over the subscription_addons row `a`. */
export const ADDON_ATTACHMENT_JSON = ADDON_ATTACHMENT_ROWS.jsonFields("a");

/** A `subscription_addons` row (or `ADDON_ATTACHMENT_JSON`'s object) as the domain's AddonAttachment. */
export const addonAttachmentFromRow = ADDON_ATTACHMENT_ROWS.fromRow;

const PLAN_CHANGE_ROWS = rowMapping(PlanChangeSchema, PlanChange, ["fromPlanVersion", "toPlanVersion"]);

/**
 * The subscription_plan_changes columns `planChangeFromRow` reads; its plan versions come as
 * `VERSION_COLUMNS(…, "f_")` and `VERSION_COLUMNS(…, "t_")` beside them.
 */
export const PLAN_CHANGE_COLUMNS = (alias: string) => PLAN_CHANGE_ROWS.columns(alias);

/**
 * A `subscription_plan_changes` row with its plan versions as `f_…` and `t_…` columns
 * (`PLAN_CHANGE_COLUMNS`). `versions` shares plan versions within one read.
 */
export function planChangeFromRow(c: Row, versions = new Map<string, PlanVersion>()): PlanChange {
  const toPlanVersion = planVersionFromRow(c, "t_", versions);
  if (!toPlanVersion) throw new Error(`plan change ${String(c.id)} was read without its plan version`);
  return PLAN_CHANGE_ROWS.fromRow(c, {
    fromPlanVersion: planVersionFromRow(c, "f_", versions),
    toPlanVersion,
  });
}
