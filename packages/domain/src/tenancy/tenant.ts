import type { Role } from "../lifecycle/actors.ts";
import { fail, ok, type Result } from "../shared/errors.ts";

/** A customer organisation: owns deployments and tenant-scoped tokens. */
export class Tenant {
  id!: string;
  slug!: string;
  name!: string;
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

export function createTenant(input: { id: string; slug: string; name: string; now: Date }): Result<Tenant> {
  const fields: Record<string, string> = {};
  if (!TENANT_SLUG_PATTERN.test(input.slug)) fields.slug = "must be a DNS label of 3–63 characters";
  if (input.name.trim().length === 0 || [...input.name].length > 100)
    fields.name = "must be 1–100 characters";
  if (Object.keys(fields).length > 0)
    return fail("VALIDATION_FAILED", "The tenant is not valid.", { fields });
  return ok(new Tenant({ id: input.id, slug: input.slug, name: input.name, createdAt: input.now }));
}

export function revokeToken(token: ApiToken, now: Date): Result<ApiToken> {
  if (token.revokedAt !== null) return fail("CONFLICT", "This token is already revoked.");
  token.revokedAt = now;
  return ok(token);
}
