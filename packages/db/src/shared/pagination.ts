import { DomainError } from "@arcadia/domain";

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

interface CursorPosition {
  readonly at: Date;
  readonly id: string;
}

/** Keyset cursors: an opaque token naming the last row of the previous page (its instant and id). */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString("base64url");
}

export function decodeCursor(cursor: string | undefined | null): CursorPosition | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const instant = new Date(at);
    if (typeof id !== "string" || Number.isNaN(instant.getTime())) throw new Error("bad cursor");
    return { at: instant, id };
  } catch {
    throw invalidCursor();
  }
}

export function invalidCursor(): DomainError {
  return new DomainError("VALIDATION_FAILED", "The cursor is not valid.", {
    fields: { cursor: "not a cursor from this API" },
  });
}

export function pageLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new DomainError("VALIDATION_FAILED", "The limit is not valid.", {
      fields: { limit: `must be 1–${MAX_LIMIT}` },
    });
  }
  return value;
}

/** The keyset condition for rows after the cursor in (instant, id) order. */
export function afterCursor(field: string, cursor: CursorPosition | null): Record<string, unknown> {
  if (!cursor) return {};
  return { $or: [{ [field]: { $gt: cursor.at } }, { [field]: cursor.at, id: { $gt: cursor.id } }] };
}

/** Cuts a result fetched with limit + 1 rows into a page and the cursor of its last row. */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  instantOf: (row: T) => Date,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ at: instantOf(last), id: last.id }) : null,
  };
}
