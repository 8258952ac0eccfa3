import { type DecimalString, isDecimalString, normalizeDecimal } from "../shared/decimal.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import { type Cents, CURRENCY_PATTERN, CURRENCY_RULE, DEFAULT_CURRENCY, isCents } from "../shared/money.ts";

export const CATALOG_CODE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const CATALOG_CODE_RULE = "must be lower-case letters, digits and underscores";
/** Plan and add-on names, in UTF-16 code units (as they were first checked). */
export const CATALOG_NAME_MAX = 100;
export const CATALOG_NAME_RULE = `must be 1–${CATALOG_NAME_MAX} characters`;
export const DEFAULT_TRIAL_DAYS = 14;
export const TRIAL_DAYS_MAX = 365;
export const TRIAL_DAYS_RULE = `must be a whole number of days from 0 to ${TRIAL_DAYS_MAX}`;

function isCatalogName(name: string): boolean {
  return name.trim().length > 0 && name.length <= CATALOG_NAME_MAX;
}

/** Resource kind → included quantity, e.g. { storage: "10", compute: "1" }. */
export type Includes = Record<string, DecimalString>;

export class Plan {
  id!: string;
  code!: string;
  name!: string;
  createdAt!: Date;

  constructor(props: { [K in keyof Plan]: Plan[K] }) {
    Object.assign(this, props);
  }
}

/** An immutable price point of a plan. The highest version is the plan's current one. */
export class PlanVersion {
  id!: string;
  plan!: Plan;
  version!: number;
  priceCents!: Cents;
  currency!: string;
  trialDays!: number;
  includes!: Includes;
  createdAt!: Date;

  constructor(props: { [K in keyof PlanVersion]: PlanVersion[K] }) {
    Object.assign(this, props);
  }
}

/** A purchasable extra whose live price an operator may change; subscribers keep their snapshot. */
export class Addon {
  id!: string;
  code!: string;
  name!: string;
  resourceKind!: string;
  qty!: DecimalString;
  priceCents!: Cents;
  currency!: string;
  active!: boolean;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(props: { [K in keyof Addon]: Addon[K] }) {
    Object.assign(this, props);
  }
}

type Problems = Record<string, string>;

function checkPrice(problems: Problems, priceCents: unknown) {
  if (!isCents(priceCents) || priceCents < 0) problems.priceCents = "must be a non-negative integer amount";
}

function checkCurrency(problems: Problems, currency: string) {
  if (!CURRENCY_PATTERN.test(currency)) problems.currency = CURRENCY_RULE;
}

function checkCode(problems: Problems, code: string) {
  if (!CATALOG_CODE_PATTERN.test(code)) problems.code = CATALOG_CODE_RULE;
}

function checkIncludes(problems: Problems, includes: Includes): Includes {
  const normalized: Includes = {};
  for (const [kind, qty] of Object.entries(includes)) {
    if (!CATALOG_CODE_PATTERN.test(kind)) problems[`includes.${kind}`] = "resource kind must be a code";
    else if (!isDecimalString(qty) || qty.startsWith("-"))
      problems[`includes.${kind}`] = "must be a non-negative decimal";
    else normalized[kind] = normalizeDecimal(qty);
  }
  return normalized;
}

function validation<T>(problems: Problems, message: string, value: () => T): Result<T> {
  if (Object.keys(problems).length > 0) return fail("VALIDATION_FAILED", message, { fields: problems });
  return ok(value());
}

export interface PlanVersionInput {
  readonly priceCents: Cents;
  readonly currency?: string;
  readonly trialDays?: number;
  readonly includes?: Includes;
}

export function createPlan(input: { id: string; code: string; name: string; now: Date }): Result<Plan> {
  const problems: Problems = {};
  checkCode(problems, input.code);
  if (!isCatalogName(input.name)) problems.name = CATALOG_NAME_RULE;
  return validation(problems, "The plan is not valid.", () => new Plan({ ...input, createdAt: input.now }));
}

/**
 * The next version of a plan: numbered one past the highest existing version. Versions are never
 * edited afterwards, which is what lets subscriptions keep pointing at them.
 */
export function publishPlanVersion(
  plan: Plan,
  currentVersion: number,
  input: PlanVersionInput & { id: string; now: Date },
): Result<PlanVersion> {
  const problems: Problems = {};
  checkPrice(problems, input.priceCents);
  const currency = input.currency ?? DEFAULT_CURRENCY;
  checkCurrency(problems, currency);
  const trialDays = input.trialDays ?? DEFAULT_TRIAL_DAYS;
  if (!Number.isSafeInteger(trialDays) || trialDays < 0 || trialDays > TRIAL_DAYS_MAX) {
    problems.trialDays = TRIAL_DAYS_RULE;
  }
  const includes = checkIncludes(problems, input.includes ?? {});
  return validation(
    problems,
    "The plan version is not valid.",
    () =>
      new PlanVersion({
        id: input.id,
        plan,
        version: currentVersion + 1,
        priceCents: input.priceCents,
        currency,
        trialDays,
        includes,
        createdAt: input.now,
      }),
  );
}

export interface AddonInput {
  readonly code: string;
  readonly name: string;
  readonly resourceKind: string;
  readonly qty: DecimalString;
  readonly priceCents: Cents;
  readonly currency?: string;
  readonly active?: boolean;
}

export function createAddon(input: AddonInput & { id: string; now: Date }): Result<Addon> {
  const problems: Problems = {};
  checkCode(problems, input.code);
  if (!isCatalogName(input.name)) problems.name = CATALOG_NAME_RULE;
  if (!CATALOG_CODE_PATTERN.test(input.resourceKind))
    problems.resourceKind = "must be a code such as storage";
  if (!isDecimalString(input.qty) || input.qty.startsWith("-") || normalizeDecimal(input.qty) === "0") {
    problems.qty = "must be a positive decimal";
  }
  checkPrice(problems, input.priceCents);
  const currency = input.currency ?? DEFAULT_CURRENCY;
  checkCurrency(problems, currency);
  return validation(
    problems,
    "The add-on is not valid.",
    () =>
      new Addon({
        id: input.id,
        code: input.code,
        name: input.name,
        resourceKind: input.resourceKind,
        qty: normalizeDecimal(input.qty),
        priceCents: input.priceCents,
        currency,
        active: input.active ?? true,
        createdAt: input.now,
        updatedAt: input.now,
      }),
  );
}

export interface AddonPatch {
  readonly name?: string;
  readonly priceCents?: Cents;
  readonly active?: boolean;
}

/** Changes the live add-on. Existing attachments keep their snapshot; only new ones see this. */
export function updateAddon(addon: Addon, patch: AddonPatch, now: Date): Result<Addon> {
  const problems: Problems = {};
  if (patch.priceCents !== undefined) checkPrice(problems, patch.priceCents);
  if (patch.name !== undefined && !isCatalogName(patch.name)) {
    problems.name = CATALOG_NAME_RULE;
  }
  return validation(problems, "The add-on change is not valid.", () => {
    if (patch.name !== undefined) addon.name = patch.name;
    if (patch.priceCents !== undefined) addon.priceCents = patch.priceCents;
    if (patch.active !== undefined) addon.active = patch.active;
    addon.updatedAt = now;
    return addon;
  });
}
