import { canSeeTenant, DomainError, type Principal } from "@arcadia/domain";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuids; anything else cannot exist, and is answered like a missing row (never reaches SQL). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function notFound(what: string): DomainError {
  return new DomainError("NOT_FOUND", `${what} not found.`);
}

/**
 * A row the principal may see, or NOT_FOUND: another tenant's rows do not leak their existence,
 * and the platform's own (no tenant) are platform admins' only.
 */
export function visible<T extends { tenantId: string | null }>(
  row: T | null,
  principal: Principal,
  what: string,
): T {
  if (!row || !canSeeTenant(principal, row.tenantId)) throw notFound(what);
  return row;
}
