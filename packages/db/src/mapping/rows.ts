// What raw rows are made of, for the row functions beside each EntitySchema. Free of imports.

/** A row as the `pg` driver returns it (or a JSON object the database built from one). */
export type Row = Record<string, unknown>;

/** Raw rows carry timestamptz as text (the ORM's type parsers); instants become Dates here. */
export const instant = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const instantOrNull = (value: unknown): Date | null =>
  value === null || value === undefined ? null : instant(value);
