import {
  Addon,
  CURRENCY_PATTERN,
  normalizeDecimal,
  Plan,
  PlanVersion,
  TRIAL_DAYS_MAX,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { instant as at, type Row } from "./rows.ts";
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

/**
 * A plan version and its plan from `${prefix}…` columns (`VERSION_COLUMNS` in `catalog/queries.ts`);
 * null when the row has none. `cache` hands back one object per version id within one read.
 */
export function planVersionFromRow(
  row: Row,
  prefix: string,
  cache = new Map<string, PlanVersion>(),
): PlanVersion | null {
  const id = row[`${prefix}id`] as string | null;
  if (!id) return null;
  const known = cache.get(id);
  if (known) return known;
  const includes = (
    typeof row[`${prefix}includes`] === "string"
      ? JSON.parse(row[`${prefix}includes`] as string)
      : row[`${prefix}includes`]
  ) as Record<string, string>;
  const version = new PlanVersion({
    id,
    plan: new Plan({
      id: row[`${prefix}plan_id`] as string,
      code: row[`${prefix}plan_code`] as string,
      name: row[`${prefix}plan_name`] as string,
      createdAt: at(row[`${prefix}plan_created_at`]),
    }),
    version: Number(row[`${prefix}version`]),
    priceCents: Number(row[`${prefix}price_cents`]),
    currency: row[`${prefix}currency`] as string,
    trialDays: Number(row[`${prefix}trial_days`]),
    includes,
    createdAt: at(row[`${prefix}created_at`]),
  });
  cache.set(id, version);
  return version;
}

/** An `addons` row (`ADDON_JSON` in `catalog/queries.ts`): amounts and quantities as text, never JSON numbers. */
export function addonFromRow(a: Row): Addon {
  return new Addon({
    id: a.id as string,
    code: a.code as string,
    name: a.name as string,
    resourceKind: a.resource_kind as string,
    qty: normalizeDecimal(String(a.qty)),
    priceCents: Number(a.price_cents),
    currency: a.currency as string,
    active: Boolean(a.active),
    createdAt: at(a.created_at),
    updatedAt: at(a.updated_at),
  });
}
