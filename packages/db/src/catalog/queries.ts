// Catalog rows as the other areas' queries read them. Free of imports (see `shared/prepared.ts`).

/** A plan version and its plan as `${prefix}…` columns (read back with `planVersionFromRow`). */
export const VERSION_COLUMNS = (alias: string, plan: string, prefix: string) =>
  `${alias}.id as ${prefix}id, ${alias}.version as ${prefix}version, ${alias}.price_cents::text as ${prefix}price_cents,
   ${alias}.currency as ${prefix}currency, ${alias}.trial_days as ${prefix}trial_days, ${alias}.includes as ${prefix}includes,
   ${alias}.created_at as ${prefix}created_at, ${plan}.id as ${prefix}plan_id, ${plan}.code as ${prefix}plan_code,
   ${plan}.name as ${prefix}plan_name, ${plan}.created_at as ${prefix}plan_created_at`;

/** An add-on as JSON (read back with `addonFromJson`). */
export const ADDON_JSON = `'id', a.id, 'code', a.code, 'name', a.name, 'resource_kind', a.resource_kind, 'qty', a.qty::text,
  'price_cents', a.price_cents::text, 'currency', a.currency, 'active', a.active, 'created_at', a.created_at,
  'updated_at', a.updated_at`;
