import { Addon, CURRENCY_PATTERN, Plan, PlanVersion, TRIAL_DAYS_MAX } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { instant, moneyType, QuantityType } from "./types.ts";

export const PlanSchema = new EntitySchema<Plan>({
  class: Plan,
  tableName: "plans",
  properties: {
    id: { type: "uuid", primary: true },
    code: { type: "text", unique: "plans_code_unique" },
    name: { type: "text" },
    createdAt: { ...instant },
  },
});

export const PlanVersionSchema = new EntitySchema<PlanVersion>({
  class: PlanVersion,
  tableName: "plan_versions",
  properties: {
    id: { type: "uuid", primary: true },
    plan: { kind: "m:1", entity: () => Plan, eager: true },
    version: { type: "integer" },
    priceCents: { type: moneyType() },
    currency: { type: "text" },
    trialDays: { type: "integer" },
    includes: { type: "json" },
    createdAt: { ...instant },
  },
  uniques: [{ name: "plan_versions_plan_version_unique", properties: ["plan", "version"] }],
  checks: [
    { name: "plan_versions_version_check", expression: "version >= 1" },
    { name: "plan_versions_price_check", expression: "price_cents >= 0" },
    { name: "plan_versions_currency_check", expression: `currency ~ '${CURRENCY_PATTERN.source}'` },
    {
      name: "plan_versions_trial_days_check",
      expression: `trial_days >= 0 and trial_days <= ${TRIAL_DAYS_MAX}`,
    },
  ],
});

export const AddonSchema = new EntitySchema<Addon>({
  class: Addon,
  tableName: "addons",
  properties: {
    id: { type: "uuid", primary: true },
    code: { type: "text", unique: "addons_code_unique" },
    name: { type: "text" },
    resourceKind: { type: "text" },
    qty: { type: QuantityType },
    priceCents: { type: moneyType() },
    currency: { type: "text" },
    active: { type: "boolean", default: true },
    createdAt: { ...instant },
    updatedAt: { ...instant },
  },
  checks: [
    { name: "addons_price_check", expression: "price_cents >= 0" },
    { name: "addons_qty_check", expression: "qty > 0" },
    { name: "addons_currency_check", expression: `currency ~ '${CURRENCY_PATTERN.source}'` },
  ],
});
