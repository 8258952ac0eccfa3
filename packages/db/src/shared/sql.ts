import type { EntityManager } from "@mikro-orm/postgresql";
import { poolingOf } from "../orm.ts";
import type { Prepared } from "./prepared.ts";

export type Row = Record<string, unknown>;

/**
 * Plain SQL on the unit of work's connection (inside its transaction, if any), through knex, with
 * `?` placeholders. The rollover batch uses it; request paths use `withConnection`/`inTransaction`.
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

/** One query with `$1…` placeholders on a single pooled connection. */
export type Sql = <T = Row>(query: string | Prepared, params?: readonly unknown[]) => Promise<T[]>;

interface PgConnection {
  query(
    query: string | { name: string; text: string; values: readonly unknown[] },
    values?: readonly unknown[],
  ): Promise<{ rows: unknown[] }>;
  /** Set to mark the connection broken: knex's pool then destroys it instead of reusing it. */
  __knex__disposed?: unknown;
}

interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/**
 * The pool behind the entity manager (MikroORM's knex pool, so request paths and the ORM share
 * one set of connections), or the open transaction's own connection when the unit of work is in
 * one (an Idempotency-Key request runs its use case inside the transaction that stores the reply).
 */
function poolOf(em: EntityManager): { client: PoolClient; inOpenTransaction: boolean } {
  const trx = em.getTransactionContext<{ client: PoolClient }>();
  if (trx) return { client: trx.client, inOpenTransaction: true };
  return { client: em.getConnection().getKnex().client as unknown as PoolClient, inOpenTransaction: false };
}

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
  const { client } = poolOf(em);
  const connection = await client.acquireConnection();
  try {
    return await work(sqlOver(connection, namedQueriesOn(em)));
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * `withConnection` in a transaction: committed when `work` returns, rolled back when it throws
 * (a connection whose rollback fails is discarded, never reused). Inside an already open
 * transaction it simply joins it.
 */
export async function inTransaction<T>(em: EntityManager, work: (sql: Sql) => Promise<T>): Promise<T> {
  const { client, inOpenTransaction } = poolOf(em);
  if (inOpenTransaction) return withConnection(em, work);
  const connection = await client.acquireConnection();
  try {
    await connection.query("begin");
    try {
      const result = await work(sqlOver(connection, namedQueriesOn(em)));
      await connection.query("commit");
      return result;
    } catch (error) {
      await connection.query("rollback").catch((rollbackFailed: unknown) => {
        connection.__knex__disposed = rollbackFailed;
      });
      throw error;
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Raw rows carry timestamptz as text (the ORM's type parsers); instants become Dates here. */
export const instant = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const instantOrNull = (value: unknown): Date | null =>
  value === null || value === undefined ? null : instant(value);
