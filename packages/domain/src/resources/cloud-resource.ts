import { CATALOG_CODE_PATTERN } from "../catalog/catalog.ts";
import { type DecimalString, isDecimalString, normalizeDecimal } from "../shared/decimal.ts";
import { fail, ok, type Result } from "../shared/errors.ts";

/** Provider references, in UTF-16 code units. */
export const PROVIDER_REF_MAX = 200;
export const PROVIDER_REF_RULE = `must be 1–${PROVIDER_REF_MAX} characters`;

/** Something provisioned for exactly one deployment (a volume, a VM), counted against entitlements. */
export class CloudResource {
  id!: string;
  deploymentId!: string;
  tenantId!: string;
  kind!: string;
  providerRef!: string;
  qty!: DecimalString;
  createdAt!: Date;
  releasedAt!: Date | null;

  constructor(props: { [K in keyof CloudResource]: CloudResource[K] }) {
    Object.assign(this, props);
  }
}

export function registerResource(input: {
  id: string;
  deployment: { id: string; tenantId: string };
  kind: string;
  providerRef: string;
  qty: string;
  now: Date;
}): Result<CloudResource> {
  const fields: Record<string, string> = {};
  if (!CATALOG_CODE_PATTERN.test(input.kind)) fields.kind = "must be a resource kind such as storage";
  if (input.providerRef.trim().length === 0 || input.providerRef.length > PROVIDER_REF_MAX)
    fields.providerRef = PROVIDER_REF_RULE;
  if (!isDecimalString(input.qty) || input.qty.startsWith("-") || normalizeDecimal(input.qty) === "0") {
    fields.qty = "must be a positive decimal";
  }
  if (Object.keys(fields).length > 0)
    return fail("VALIDATION_FAILED", "The resource is not valid.", { fields });
  return ok(
    new CloudResource({
      id: input.id,
      deploymentId: input.deployment.id,
      tenantId: input.deployment.tenantId,
      kind: input.kind,
      providerRef: input.providerRef,
      qty: normalizeDecimal(input.qty),
      createdAt: input.now,
      releasedAt: null,
    }),
  );
}

export function releaseResource(resource: CloudResource, now: Date): Result<CloudResource> {
  if (resource.releasedAt !== null) return fail("CONFLICT", "This resource is already released.");
  resource.releasedAt = now;
  return ok(resource);
}
