import type { EntityManager } from "@mikro-orm/postgresql";
import { type Clock, tenantClocks } from "./clock.ts";
import { newId } from "./ids.ts";

/**
 * What every use case needs besides its input: a unit of work (forked per request or job), the
 * clock, an id source and the configured regions. Tests pass fixed clocks and the app the real one.
 */
export interface UseCaseContext {
  readonly em: EntityManager;
  /**
   * What plain SQL runs through (`withConnection`, `inTransaction`): the unit of work once there is
   * one, else the root entity manager, whose pool — or open transaction — is the same. Plain-SQL
   * use cases use it so that they never fork a unit of work they do not need.
   */
  readonly sqlEm: EntityManager;
  /**
   * "Now", per tenant (shared/clock.ts): `await ctx.clock.tenantNow(db, tenantId)` for a tenant's
   * data (a sandbox's test clock), `ctx.clock.wallNow()` for what is no tenant's.
   */
  readonly clock: Clock;
  readonly newId: () => string;
  readonly regions: readonly string[];
}

/**
 * A context over a unit of work, with time-ordered ids taken from the wall clock `now` (which is
 * also what ordinary tenants' "now" is). With `lazy`, `em` is the root entity manager and the unit
 * of work is forked from it on first use.
 */
export function useCaseContext(
  em: EntityManager,
  now: () => Date,
  regions: readonly string[],
  options: { lazy?: boolean } = {},
): UseCaseContext {
  const ids = () => newId(now().getTime());
  const clock = tenantClocks(now);
  if (!options.lazy) return { em, sqlEm: em, clock, newId: ids, regions };
  let made: EntityManager | undefined;
  return {
    get em() {
      made ??= em.fork();
      return made;
    },
    get sqlEm() {
      return made ?? em;
    },
    clock,
    newId: ids,
    regions,
  };
}
