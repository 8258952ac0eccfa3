import type { ActorRef, Role } from "../lifecycle/actors.ts";
import { fail, ok, type Result } from "../shared/errors.ts";

/** The authenticated caller: a token's id, its role and (for tenant roles) its tenant. */
export interface Principal {
  readonly id: string;
  readonly role: Role;
  readonly tenantId: string | null;
}

export function actorOf(principal: Principal): ActorRef {
  return { type: "principal", id: principal.id, role: principal.role };
}

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.role === "platform_admin";
}

/**
 * Whether the principal may see something of this tenant. Callers answer NOT_FOUND when not,
 * so that another tenant's things do not leak their existence. `null` is the platform's own
 * (a platform-wide webhook endpoint, a platform event): platform admins only.
 */
export function canSeeTenant(principal: Principal, tenantId: string | null): boolean {
  if (principal.role === "platform_admin") return true;
  return tenantId !== null && principal.tenantId === tenantId;
}

/**
 * Whose things a list shows: a platform admin's, the tenant it asks for or (`undefined`) every
 * tenant's; anyone else's, their own tenant's, whatever they ask for. A tenant role without a
 * tenant (no token has one) gets "", which is no tenant's id, so its lists are empty.
 */
export function tenantToList(
  principal: Principal,
  requestedTenantId: string | undefined,
): string | undefined {
  return isPlatformAdmin(principal) ? requestedTenantId : (principal.tenantId ?? "");
}

/** Writes on tenant data: platform admins anywhere, tenant admins in their own tenant. */
export function requireWriter(principal: Principal): Result<void> {
  if (principal.role === "tenant_viewer") return fail("FORBIDDEN", "This token is read-only.");
  return ok(undefined);
}

export function requirePlatformAdmin(principal: Principal): Result<void> {
  if (principal.role !== "platform_admin") return fail("FORBIDDEN", "Only a platform admin may do this.");
  return ok(undefined);
}

/**
 * The tenant a tenant-scoped write lands in: a tenant principal's own, or the one a platform
 * admin names (required for them).
 */
export function tenantForWrite(principal: Principal, requestedTenantId: string | undefined): Result<string> {
  const writer = requireWriter(principal);
  if (!writer.ok) return writer;
  if (principal.role === "platform_admin") {
    if (!requestedTenantId) {
      return fail("VALIDATION_FAILED", "tenantId is required for a platform admin.", {
        fields: { tenantId: "required for platform_admin" },
      });
    }
    return ok(requestedTenantId);
  }
  if (requestedTenantId !== undefined && requestedTenantId !== principal.tenantId) {
    return fail("NOT_FOUND", "No such tenant.");
  }
  return ok(principal.tenantId!);
}

/**
 * Who may issue a token of a role: platform admins any, for any tenant; tenant admins only
 * tenant roles of their own tenant. Platform-admin tokens have no tenant; tenant tokens need one.
 */
export function checkTokenIssue(
  principal: Principal,
  role: Role,
  tenantId: string | null | undefined,
): Result<string | null> {
  if (role === "platform_admin") {
    if (principal.role !== "platform_admin")
      return fail("FORBIDDEN", "Only a platform admin may issue that role.");
    if (tenantId) {
      return fail("VALIDATION_FAILED", "A platform_admin token has no tenant.", {
        fields: { tenantId: "must be absent for platform_admin" },
      });
    }
    return ok(null);
  }
  if (principal.role === "platform_admin") {
    if (!tenantId) {
      return fail("VALIDATION_FAILED", "A tenant role needs a tenantId.", {
        fields: { tenantId: "required" },
      });
    }
    return ok(tenantId);
  }
  if (principal.role !== "tenant_admin") return fail("FORBIDDEN", "This token may not issue tokens.");
  if (tenantId && tenantId !== principal.tenantId) return fail("NOT_FOUND", "No such tenant.");
  return ok(principal.tenantId);
}
