import type { EntityManager } from "@mikro-orm/postgresql";
import type { Row } from "../mapping/rows.ts";
import { poolingOf } from "../orm.ts";
import { borrowConnection, discardOnRelease, type PgConnection, rawQueriesOn } from "./knex.ts";
import type { Prepared } from "./prepared.ts";

export { instant, instantOrNull, type Row } from "../mapping/rows.ts";

/**
 * Plain SQL on the unit of work's connection (inside its transaction, if any), with `?`
 * placeholders. The rollover batch uses it; request paths use `withConnection`/`inTransaction`.
 */
export function sqlOn(em: EntityManager) {
  const raw = rawQueriesOn(em);
  return <T = Row[]>(text: string, params: readonly unknown[] = []): Promise<T> => raw<T>(text, params);
}

/** One query with `$1…` placeholders on a single pooled connection. */
export type Sql = <T = Row>(query: string | Prepared, params?: readonly unknown[]) => Promise<T[]>;

/**
 * Queries over one connection. A `Prepared` one is executed by name (parsed and planned once per
 * connection) unless the connection is pooled per transaction (`DATABASE_POOLING=transaction`):
 * behind PgBouncer < 1.21 the next transaction may run on a server connection that never saw the
 * Parse (PostgreSQL: the name "does not exist") or already holds the name ("already exists"),
 * so there every query is sent unnamed, parsed and planned each time.
 */
function sqlOver(connection: PgConnection, named: boolean): Sql {
  return async <R>(query: string | Prepared, params: readonly unknown[] = []) => {
    const result =
      typeof query === "string" || !named
        ? await connection.query(typeof query === "string" ? query : query.text, params)
        : await connection.query({ name: query.name, text: query.text, values: params });
    return result.rows as R[];
  };
}

const namedQueriesOn = (em: EntityManager) => poolingOf(em) === "none";

/**
 * Runs `work` with queries on one pooled connection, straight through the `pg` driver: the
 * request hot paths (the deployment document, transitions, subscribing) spend most of their time
 * here, and knex's per-query builder work and the entity manager's unit of work cost more than the
 * queries themselves. The SQL and the domain rules are the same either way.
 */
export async function withConnection<T>(em: EntityManager, work: (sql: Sql) => Promise<T>): Promise<T> {
  const lent = await borrowConnection(em);
  try {
    return await work(sqlOver(lent.connection, namedQueriesOn(em)));
  } finally {
    await lent.release();
  }
}

/**
 * `withConnection` in a transaction: committed when `work` returns, rolled back when it throws
 * (a connection whose rollback fails is discarded, never reused). Inside an already open
 * transaction it simply joins it.
 */
export async function inTransaction<T>(em: EntityManager, work: (sql: Sql) => Promise<T>): Promise<T> {
  const lent = await borrowConnection(em);
  const { connection } = lent;
  const sql = sqlOver(connection, namedQueriesOn(em));
  try {
    if (lent.inOpenTransaction) return await work(sql);
    await connection.query("begin");
    try {
      const result = await work(sql);
      await connection.query("commit");
      return result;
    } catch (error) {
      await connection.query("rollback").catch((rollbackFailed: unknown) => {
        discardOnRelease(connection, rollbackFailed);
      });
      throw error;
    }
  } finally {
    await lent.release();
  }
}
