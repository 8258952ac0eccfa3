/**
 * JSON text of a `T`, produced whole by PostgreSQL in the contract's shape (`presenters/json-reads.ts`):
 * transports send the text as it is, with no parse, mapping, presenting or stringify on the way.
 * Whatever stringifies it instead (tRPC's adapter, a stored idempotent reply) gets the value, via
 * `toJSON`, and writes the same bytes.
 */
export class JsonText<T = unknown> {
  /** The type of the value the text holds (compile time only). */
  declare readonly __value?: T;

  constructor(readonly text: string) {}

  /** The value itself. */
  parse(): T {
    return JSON.parse(this.text) as T;
  }

  toJSON(): T {
    return this.parse();
  }
}

/** A page `{ items, nextCursor }` around the items' JSON array text. */
export function pageText<T>(
  itemsText: string,
  nextCursor: string | null,
): JsonText<{ items: T[]; nextCursor: string | null }> {
  return new JsonText(
    `{"items":${itemsText},"nextCursor":${nextCursor === null ? "null" : JSON.stringify(nextCursor)}}`,
  );
}
