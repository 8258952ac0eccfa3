import { DomainError, type ErrorCode } from "@arcadia/domain";
import { DeadlockException, UniqueConstraintViolationException } from "@mikro-orm/core";

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

/** PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back whole. */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: string; sqlState?: string } | null)?.code;
  const state = (error as { sqlState?: string } | null)?.sqlState;
  return error instanceof DeadlockException || [code, state].some((c) => c === "40P01" || c === "40001");
}

/**
 * Runs a whole transaction again when PostgreSQL rolled it back to break a deadlock (or a
 * serialization failure): the worker's batches take their locks in orders that can cross another
 * pass's (a collection step locks a deployment, then its subscription; a rollover batch its
 * subscriptions, then their collection appointments), and each batch is all or nothing and safe to
 * rerun, so the loser simply goes again. Up to `attempts` tries, a short random pause between them.
 */
export async function retryOnConflict<T>(transaction: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || !isTransientConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
