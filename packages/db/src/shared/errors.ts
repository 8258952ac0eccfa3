import { DomainError, type ErrorCode } from "@arcadia/domain";
import { UniqueConstraintViolationException } from "@mikro-orm/core";

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
    if (
      error instanceof UniqueConstraintViolationException &&
      (constraint === undefined ||
        String((error as { constraint?: string }).constraint ?? error.message).includes(constraint))
    ) {
      throw new DomainError(code, message);
    }
    throw error;
  }
}
