import { Addon, CURRENCY_PATTERN, Plan, PlanVersion, TRIAL_DAYS_MAX } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { rowMapping } from "./row-mapping.ts";
import type { Row } from "./rows.ts";
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

const PLAN_ROWS = rowMapping(PlanSchema, Plan);
const PLAN_VERSION_ROWS = rowMapping(PlanVersionSchema, PlanVersion, ["plan"]);

/**
 * A plan version and its plan as `${prefix}…` columns (read back with `planVersionFromRow`): the
 * version's own columns, and its plan's as `${prefix}plan_…`.
 */
export const VERSION_COLUMNS = (alias: string, plan: string, prefix: string) =>
  `${PLAN_VERSION_ROWS.prefixed(prefix).columns(alias)}, ${PLAN_ROWS.prefixed(`${prefix}plan_`).columns(plan)}`;

/**
 * A plan version and its plan from `${prefix}…` columns (`VERSION_COLUMNS`); null when the row has
 * none. `cache` hands back one object per version id within one read.
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
  const plan = PLAN_ROWS.prefixed(`${prefix}plan_`).fromRow(row);
  const version = PLAN_VERSION_ROWS.prefixed(prefix).fromRow(row, { plan });
  cache.set(id, version);
  return version;
}

const ADDON_ROWS = rowMapping(AddonSchema, Addon);

/** An add-on as the argument list of `json_build_object` over the addons row `a` (read back with `addonFromRow`). */
export const ADDON_JSON = ADDON_ROWS.jsonFields("a");

/** An `addons` row (or `ADDON_JSON`'s object) as the domain's Addon. */
export const addonFromRow = ADDON_ROWS.fromRow;
