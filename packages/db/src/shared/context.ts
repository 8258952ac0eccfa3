import type { EntityManager } from "@mikro-orm/postgresql";
import { newId } from "./ids.ts";

/**
 * What every use case needs besides its input: a unit of work (forked per request or job), the
 * clock, an id source and the configured regions. Tests pass fixed clocks and the app the real one.
 */
export interface UseCaseContext {
  readonly em: EntityManager;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly regions: readonly string[];
}

/** A context over a unit of work, with time-ordered ids taken from the same clock. */
export function useCaseContext(
  em: EntityManager,
  now: () => Date,
  regions: readonly string[],
): UseCaseContext {
  return { em, now, newId: () => newId(now().getTime()), regions };
}
