import { normalizeDecimal } from "@arcadia/domain";
import { BigIntType, type EntityProperty, type Platform, Type } from "@mikro-orm/core";

/**
 * Decimal quantities: numeric(24, 6) in the database, canonical strings ("50", "0.5") in the
 * domain. PostgreSQL pads numerics to their scale; this strips that so values compare as text.
 */
export class QuantityType extends Type<string, string> {
  override convertToDatabaseValue(value: string): string {
    return value;
  }

  override convertToJSValue(value: string | number): string {
    return normalizeDecimal(String(value));
  }

  override getColumnType(_prop: EntityProperty, _platform: Platform): string {
    return "numeric(24,6)";
  }

  override compareAsType(): string {
    return "string";
  }
}

/** Money: bigint minor units in the database, a safe integer in JS. */
export const moneyType = () => new BigIntType("number");

/** Instants keep milliseconds end to end. */
export const instant = { type: "datetime", columnType: "timestamptz(3)" } as const;

/**
 * `column` is one of `values`, written the way PostgreSQL prints it back, so that the schema
 * comparator sees no difference between the mapping and a migrated database.
 */
export function oneOf(column: string, values: readonly string[]): string {
  return `${column} = any (array[${values.map((v) => `'${v}'::text`).join(", ")}])`;
}
