import { DomainError, type ErrorCode } from "@arcadia/domain";
import { UniqueConstraintViolationException } from "@mikro-orm/core";

/** PostgreSQL's unique_violation, as the ORM reports it or straight from the driver (plain SQL paths). */
function isUniqueViolation(error: unknown, constraint: string | undefined): boolean {
  const unique =
    error instanceof UniqueConstraintViolationException ||
    (error instanceof Error && (error as { code?: string }).code === "23505");
  if (!unique) return false;
  if (constraint === undefined) return true;
  return String((error as { constraint?: string }).constraint ?? (error as Error).message).includes(
    constraint,
  );
}

/**
 * Runs a write and turns a unique-constraint violation into the domain's conflict code (the race
 * that the database, not the code, decided). Constraint names are never shown to callers.
 */
export async function onUniqueViolation<T>(
  run: () => Promise<T>,
  code: ErrorCode,
  message: string,
  constraint?: string,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUniqueViolation(error, constraint)) throw new DomainError(code, message);
    throw error;
  }
}
