// The one file that reaches into knex, the query builder and connection pool under MikroORM's
// PostgreSQL driver: its raw queries, its pool's connections (lent straight to `pg`), the marker
// that makes the pool discard a broken connection, its pool statistics and its log hook. Nothing
// else in the code base names knex; when MikroORM or knex change these internals, this file does.
import type { EntityManager } from "@mikro-orm/postgresql";

/** A `pg` client connection lent by the pool. */
export interface PgConnection {
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
 * A query with `?` placeholders on the unit of work's connection (inside its transaction, if any),
 * through knex's `raw`.
 */
export function rawQueriesOn(em: EntityManager) {
  const knex = em.getConnection().getKnex();
  const trx = em.getTransactionContext();
  return async <T>(text: string, params: readonly unknown[]): Promise<T> => {
    const query = knex.raw(text, params as never);
    const result = await (trx ? query.transacting(trx) : query);
    return result.rows as T;
  };
}

/** A connection and how to give it back (`release`, or `discard` when it may not be reused). */
export interface LentConnection {
  readonly connection: PgConnection;
  release(): Promise<unknown>;
}

/**
 * A connection of the pool behind the entity manager (MikroORM's knex pool, so plain SQL and the
 * ORM share one set of connections), or the open transaction's own connection when the unit of
 * work is in one (`inOpenTransaction`; an Idempotency-Key request runs its use case inside the
 * transaction that stores the reply).
 */
export async function borrowConnection(
  em: EntityManager,
): Promise<LentConnection & { readonly inOpenTransaction: boolean }> {
  const trx = em.getTransactionContext<{ client: PoolClient }>();
  const client = trx ? trx.client : (em.getConnection().getKnex().client as unknown as PoolClient);
  const connection = await client.acquireConnection();
  return {
    connection,
    inOpenTransaction: Boolean(trx),
    release: () => client.releaseConnection(connection),
  };
}

/** Marks a lent connection broken (a failed rollback): the pool destroys it on release. */
export function discardOnRelease(connection: PgConnection, reason: unknown): void {
  connection.__knex__disposed = reason;
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

/** The ORM's connection pool (knex's) at this instant: lent out, idle, callers waiting, bound. */
export function poolStats(orm: { readonly em: EntityManager }): {
  used: number;
  idle: number;
  waiting: number;
  max: number;
} {
  const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
  if (!pool) return { used: 0, idle: 0, waiting: 0, max: 0 };
  return { used: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires(), max: pool.max };
}

/**
 * knex's log hook (`driverOptions.log`): "Connection Error: …" when the pool drops a broken
 * connection, deprecations. Without it knex writes them to the console, outside any structured log.
 */
export function driverLog(onMessage: (level: "warn" | "error" | "debug", message: string) => void) {
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    log: {
      warn: (message: unknown) => onMessage("warn", text(message)),
      error: (message: unknown) => onMessage("error", text(message)),
      deprecate: (method: string, alternative: string) =>
        onMessage("warn", `${method} is deprecated, use ${alternative}`),
      debug: (message: unknown) => onMessage("debug", text(message)),
    },
  };
}
