// Free of any import, like every `*/queries.ts` module that uses it, so that the bench's bare
// server (`@arcadia/db/queries/*`) runs the very same queries as the API.

/**
 * A query prepared once per connection and executed by name afterwards: PostgreSQL parses and
 * plans it once instead of on every request (planning the deployment document alone costs more
 * than running it). Its result columns are listed, never `*`, so that a migration adding a column
 * does not change the result type of a query already prepared on a live connection.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(name: string, text: string): Prepared {
  return { name, text };
}
