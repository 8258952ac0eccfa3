import { DEFAULT_PAYMENT_TERMS_DAYS, validatePaymentTerms } from "../collection/invoice.ts";
import type { Role } from "../lifecycle/actors.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import { characterCount } from "../shared/text.ts";

/**
 * A customer organisation: owns deployments and tenant-scoped tokens. A sandbox tenant has a test
 * clock (`clockFrozenAt`): its data lives at that instant, which moves only when advanced. Whether
 * a tenant is a sandbox is fixed at creation (its data is rehearsal data, never real billing).
 */
export class Tenant {
  id!: string;
  slug!: string;
  name!: string;
  sandbox!: boolean;
  /** The sandbox's clock: "now" for everything of this tenant. Null for an ordinary tenant. */
  clockFrozenAt!: Date | null;
  /** Days between an invoice's issue and its due date (SPEC §3.8). */
  paymentTermsDays!: number;
  createdAt!: Date;

  constructor(props: { [K in keyof Tenant]: Tenant[K] }) {
    Object.assign(this, props);
  }
}

/** An API token. Only a hash of its secret is kept; the secret is shown once, at creation. */
export class ApiToken {
  id!: string;
  tenantId!: string | null;
  role!: Role;
  name!: string;
  secretHash!: string;
  createdAt!: Date;
  revokedAt!: Date | null;

  constructor(props: { [K in keyof ApiToken]: ApiToken[K] }) {
    Object.assign(this, props);
  }
}

export const TENANT_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
export const TENANT_SLUG_RULE = "must be a DNS label of 3–63 characters";
/** Tenant names are counted in characters (code points). */
export const TENANT_NAME_MAX = 100;
export const TENANT_NAME_RULE = `must be 1–${TENANT_NAME_MAX} characters`;

export function isTenantName(name: string): boolean {
  return name.trim().length > 0 && characterCount(name) <= TENANT_NAME_MAX;
}

export function createTenant(input: {
  id: string;
  slug: string;
  name: string;
  /** Makes the tenant a sandbox whose clock starts at `frozenAt`. */
  testClock?: { frozenAt: Date } | null;
  now: Date;
}): Result<Tenant> {
  const fields: Record<string, string> = {};
  if (!TENANT_SLUG_PATTERN.test(input.slug)) fields.slug = TENANT_SLUG_RULE;
  if (!isTenantName(input.name)) fields.name = TENANT_NAME_RULE;
  if (Object.keys(fields).length > 0)
    return fail("VALIDATION_FAILED", "The tenant is not valid.", { fields });
  const frozenAt = input.testClock?.frozenAt ?? null;
  return ok(
    new Tenant({
      id: input.id,
      slug: input.slug,
      name: input.name,
      sandbox: frozenAt !== null,
      clockFrozenAt: frozenAt,
      paymentTermsDays: DEFAULT_PAYMENT_TERMS_DAYS,
      createdAt: input.now,
    }),
  );
}

export interface TenantPatch {
  readonly name?: string;
  readonly paymentTermsDays?: number;
}

/** Renames a tenant or changes its payment terms (which apply to invoices issued from now on). */
export function updateTenant(tenant: Tenant, patch: TenantPatch): Result<Tenant> {
  const fields: Record<string, string> = {};
  if (patch.name !== undefined && !isTenantName(patch.name)) fields.name = TENANT_NAME_RULE;
  if (patch.paymentTermsDays !== undefined) {
    const terms = validatePaymentTerms(patch.paymentTermsDays);
    if (!terms.ok) Object.assign(fields, terms.error.details.fields);
  }
  if (Object.keys(fields).length > 0)
    return fail("VALIDATION_FAILED", "The change is not valid.", { fields });
  if (patch.name !== undefined) tenant.name = patch.name;
  if (patch.paymentTermsDays !== undefined) tenant.paymentTermsDays = patch.paymentTermsDays;
  return ok(tenant);
}

export function revokeToken(token: ApiToken, now: Date): Result<ApiToken> {
  if (token.revokedAt !== null) return fail("CONFLICT", "This token is already revoked.");
  token.revokedAt = now;
  return ok(token);
}
