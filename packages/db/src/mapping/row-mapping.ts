// A table's raw-row reader and column list, derived from its EntitySchema: the schema is the one
// definition of a table (property, column, type, nullability), the ORM hydrates through it, and
// every plain-SQL read (the worker's loads, transitions, subscribing, collection) reads through
// what is derived here, so the two cannot drift apart.
import {
  BigIntType,
  type EntitySchema,
  parseJsonSafe,
  Type,
  UnderscoreNamingStrategy,
} from "@mikro-orm/core";
import { instant, type Row } from "./rows.ts";
import { QuantityType } from "./types.ts";

/** The constructor argument of the domain's classes: every property, as the class declares it. */
export type PropsOf<T> = { [K in keyof T]: T[K] };

/** The schema options a property is read by (what `new EntitySchema({ properties })` keeps). */
interface PropertyOptions {
  readonly kind?: string;
  readonly type?: unknown;
  readonly fieldName?: string;
  readonly nullable?: boolean;
  readonly mapToPk?: boolean;
}

/** How one property is read: from which column, carried how, converted how. */
interface Field {
  readonly property: string;
  readonly column: string;
  /** `::text` for numerics and bigints, so JSON built by the database keeps every digit. */
  readonly cast: string;
  readonly read: (value: unknown) => unknown;
}

/** The ORM's default naming (orm.ts sets no other): `createdAt` → `created_at`, `planVersion` → `plan_version_id`. */
const naming = new UnderscoreNamingStrategy();
const quantity = new QuantityType();

const asIs = (value: unknown) => value;
const orNull = (value: unknown) => value ?? null;
const nullOr =
  (read: (value: unknown) => unknown) =>
  (value: unknown): unknown =>
    value === null || value === undefined ? null : read(value);

/** The same conversions the ORM applies when it hydrates (the schema's types, mapping/types.ts). */
function fieldOf(property: string, options: PropertyOptions): Field {
  const nullable = options.nullable === true;
  const kind = options.kind ?? "scalar";
  if (kind === "m:1" || kind === "1:1") {
    if (!options.mapToPk) throw new Error(`${property} is an object relation: give it to fromRow`);
    const column = options.fieldName ?? naming.joinKeyColumnName(property);
    return { property, column, cast: "", read: nullable ? orNull : asIs };
  }
  if (kind !== "scalar") throw new Error(`${property}: a ${kind} relation has no column to read`);
  const column = options.fieldName ?? naming.propertyToColumnName(property);
  const { type } = options;
  let cast = "";
  let read: (value: unknown) => unknown;
  if (type === QuantityType) {
    cast = "::text";
    read = (value) => quantity.convertToJSValue(value as string);
  } else if (type instanceof BigIntType && type.mode === "number") {
    cast = "::text";
    read = Number;
  } else if (type instanceof Type || typeof type === "function") {
    throw new Error(`${property}: no row conversion for this custom type yet (mapping/row-mapping.ts)`);
  } else {
    switch (type) {
      case "uuid":
      case "text":
      case "string":
        read = asIs;
        break;
      case "datetime":
        read = instant;
        break;
      case "integer":
      case "int":
        read = Number;
        break;
      case "boolean":
        read = Boolean;
        break;
      case "json":
        read = parseJsonSafe;
        break;
      case "text[]":
        // The driver reads a text[] as an array of strings, as the ORM hands it on.
        read = asIs;
        break;
      default:
        throw new Error(`${property}: no row conversion for type ${String(type)} (mapping/row-mapping.ts)`);
    }
  }
  // A nullable text column is read as null when absent, as the ORM leaves it.
  return { property, column, cast, read: nullable ? (read === asIs ? orNull : nullOr(read)) : read };
}

function propertiesOf<T>(schema: EntitySchema<T>): [string, PropertyOptions][] {
  return Object.entries<PropertyOptions>(schema.meta.properties);
}

/** What a row mapping is read from: its columns as a select list or a `json_build_object` list. */
export interface RowColumns {
  /** `alias.column, …` (or bare `column, …` without an alias), each as `${prefix}column`. */
  columns(alias?: string): string;
  /** `'column', alias.column, …`: the same keys as a `json_build_object` argument list. */
  jsonFields(alias: string): string;
}

function columnsOf(fields: readonly Field[], prefix: string): RowColumns {
  const lists = new Map<string, string>();
  const list = (alias: string) =>
    fields
      .map(({ column, cast }) => {
        const expression = alias ? `${alias}.${column}${cast}` : `${column}${cast}`;
        return cast || prefix ? `${expression} as ${prefix}${column}` : expression;
      })
      .join(", ");
  return {
    // Use cases ask for their lists on every call: each is built once.
    columns: (alias = "") => {
      const known = lists.get(alias);
      if (known !== undefined) return known;
      const built = list(alias);
      lists.set(alias, built);
      return built;
    },
    jsonFields: (alias) =>
      fields.map(({ column, cast }) => `'${prefix}${column}', ${alias}.${column}${cast}`).join(", "),
  };
}

/** `fromRow`'s second argument: the object relations, when the table has any. */
type Given<T, R extends keyof T> = [R] extends [never] ? [] : [relations: Pick<T, R>];

/**
 * A table's rows as its domain class. `fromRow` is built once per mapping (the field list is
 * resolved here, not per row: the worker's rollover maps 100k rows a run) and constructs with
 * `new Class(props)`, as every other path does.
 */
export interface RowMapping<T, R extends keyof T = never> extends RowColumns {
  readonly fromRow: (row: Row, ...given: Given<T, R>) => T;
  /** The same mapping over `${prefix}column` names (e.g. two plan versions in one row). */
  prefixed(prefix: string): RowMapping<T, R>;
}

/**
 * The row mapping of `schema`, whose class is `Class`. Object relations (`kind: "m:1"` without
 * `mapToPk`: a subscription's plan version, a plan version's plan) are not columns of the row's
 * table: the caller reads them (from their own columns) and gives them, and must name exactly
 * those in `relations`. Relations mapped to their primary key read the foreign key column.
 */
export function rowMapping<T, R extends keyof T & string = never>(
  schema: EntitySchema<T>,
  Class: new (props: PropsOf<T>) => T,
  relations: readonly R[] = [],
): RowMapping<T, R> {
  if (schema.meta.class !== Class) throw new Error(`${schema.meta.className} is not mapped to ${Class.name}`);
  const entries = propertiesOf(schema);
  const objectRelations = entries
    .filter(([, options]) => (options.kind === "m:1" || options.kind === "1:1") && !options.mapToPk)
    .map(([name]) => name);
  const named = new Set<string>(relations);
  if (objectRelations.length !== named.size || objectRelations.some((name) => !named.has(name))) {
    throw new Error(
      `${schema.meta.className}'s object relations are ${objectRelations.join(", ") || "none"}; the mapping names ${[...named].join(", ") || "none"}`,
    );
  }
  // Schema order, the object relations in their places: the order the hand-written functions had.
  const slots: Slot[] = entries.map(([name, options]) =>
    named.has(name) ? { given: name } : { field: fieldOf(name, options) },
  );
  const fields = slots.flatMap((slot) => ("field" in slot ? [slot.field] : []));
  const byPrefix = new Map<string, RowMapping<T, R>>();
  const build = (prefix: string): RowMapping<T, R> => ({
    ...columnsOf(fields, prefix),
    fromRow: compile<T, Given<T, R>>(slots, prefix, Class),
    prefixed: (other) => {
      const known = byPrefix.get(other);
      if (known) return known;
      const mapping = build(other);
      byPrefix.set(other, mapping);
      return mapping;
    },
  });
  return build("");
}

/** A property of the object made: read from the row, or given by the caller (an object relation). */
type Slot = { readonly field: Field } | { readonly given: string };

/**
 * `fromRow`, compiled once per mapping and prefix: a function with one literal property access per
 * column and one object literal, as a hand-written row function has. A loop over the field list
 * (dynamic keys on every row) ran about eight times slower, and the worker maps 100k rows a run.
 * The source holds only property and column names from the schema, quoted with JSON.stringify.
 */
function compile<T, G extends unknown[]>(
  slots: readonly Slot[],
  prefix: string,
  Class: (new (props: PropsOf<T>) => T) | null,
): (row: Row, ...given: G) => T {
  const reads = slots.map((slot) => ("field" in slot ? slot.field.read : null));
  const entries = slots.map((slot, i) => {
    if ("given" in slot) return `${JSON.stringify(slot.given)}: given[${JSON.stringify(slot.given)}]`;
    const value = `row[${JSON.stringify(`${prefix}${slot.field.column}`)}]`;
    return `${JSON.stringify(slot.field.property)}: ${slot.field.read === asIs ? value : `read${i}(${value})`}`;
  });
  const source = `
    ${reads.map((read, i) => (read && read !== asIs ? `const read${i} = reads[${i}];` : "")).join("\n")}
    return function fromRow(row, given) {
      return ${Class === null ? "" : "new Class("}{ ${entries.join(", ")} }${Class === null ? "" : ")"};
    };`;
  // Every property of the schema is set (its columns read above, its object relations given), and
  // the schema's properties are the class's (row-mapping.db.test.ts compares with the ORM's entities).
  return new Function("reads", "Class", source)(reads, Class) as (row: Row, ...given: G) => T;
}

/** Some of a table's properties as a plain object (a narrower type than the class: no class is made). */
export interface PickedRows<T, K extends keyof T> extends RowColumns {
  readonly fromRow: (row: Row) => Pick<T, K>;
}

/** The row mapping of `properties` of `schema` (in that order), read as a plain object. */
export function pickedRows<T, K extends keyof T & string>(
  schema: EntitySchema<T>,
  properties: readonly K[],
): PickedRows<T, K> {
  const options = schema.meta.properties as Record<string, PropertyOptions>;
  const fields = properties.map((name) => {
    const property = options[name];
    if (!property) throw new Error(`${schema.meta.className} has no property ${name}`);
    return fieldOf(name, property);
  });
  return {
    ...columnsOf(fields, ""),
    fromRow: compile<Pick<T, K>, []>(
      fields.map((field) => ({ field })),
      "",
      null,
    ),
  };
}
