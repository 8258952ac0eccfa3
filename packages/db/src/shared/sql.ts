import type { EntityManager } from "@mikro-orm/postgresql";

export type Row = Record<string, unknown>;

/**
 * Plain SQL on the unit of work's connection (inside its transaction, if any), through knex.
 * Hot paths use it where the entity manager's per-query work costs more than the query:
 * EntityManager.execute also renders parameters into the query text for its logger.
 */
export function sqlOn(em: EntityManager) {
  const knex = em.getConnection().getKnex();
  const trx = em.getTransactionContext();
  return async <T = Row[]>(text: string, params: readonly unknown[] = []): Promise<T> => {
    const query = knex.raw(text, params as never);
    const result = await (trx ? query.transacting(trx) : query);
    return result.rows as T;
  };
}

/** Raw rows carry timestamptz as text (the ORM's type parsers); instants become Dates here. */
export const instant = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const instantOrNull = (value: unknown): Date | null =>
  value === null || value === undefined ? null : instant(value);
