/**
 * Decimal quantities (storage GB, vCPUs, tokens) as exact strings: "50", "0.5", "1000000".
 * Arithmetic scales both sides to a common number of fractional digits on bigints, so no float
 * ever touches a quantity.
 */
export type DecimalString = string;

export const DECIMAL_PATTERN = /^-?(0|[1-9]\d{0,17})(\.\d{1,6})?$/;
/** How a quantity may be written at the API: up to 18 whole and 6 fractional digits. */
export const DECIMAL_TEXT_PATTERN = /^-?\d{1,18}(\.\d{1,6})?$/;
export const DECIMAL_TEXT_RULE = 'must be a decimal number written as a string, e.g. "50" or "0.5"';
export const MAX_DECIMAL_SCALE = 6;

interface Scaled {
  readonly units: bigint;
  readonly scale: number;
}

export function isDecimalString(value: string): boolean {
  return DECIMAL_PATTERN.test(normalizeDecimal(value, false));
}

function parse(value: string): Scaled {
  const trimmed = value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(trimmed)) throw new RangeError(`"${value}" is not a decimal number`);
  const negative = trimmed.startsWith("-");
  const unsigned = negative ? trimmed.slice(1) : trimmed;
  const [whole = "0", fraction = ""] = unsigned.split(".");
  const units = BigInt(whole + fraction);
  return { units: negative ? -units : units, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function format(units: bigint, scale: number): DecimalString {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  let fraction = scale > 0 ? digits.slice(digits.length - scale) : "";
  digits = scale > 0 ? digits.slice(0, digits.length - scale) : digits;
  fraction = fraction.replace(/0+$/, "");
  const body = fraction.length > 0 ? `${digits}.${fraction}` : digits;
  return negative && body !== "0" ? `-${body}` : body;
}

/** The canonical text of a decimal: no leading zeros, no trailing fractional zeros ("50.000" → "50"). */
export function normalizeDecimal(value: string, strict = true): DecimalString {
  try {
    const parsed = parse(value);
    return format(parsed.units, parsed.scale);
  } catch (error) {
    if (strict) throw error;
    return value;
  }
}

function combine(values: readonly string[], sign: (index: number) => bigint): DecimalString {
  const parsed = values.map(parse);
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  let total = 0n;
  parsed.forEach((p, index) => {
    total += sign(index) * rescale(p, scale);
  });
  return format(total, scale);
}

export function addDecimals(...values: readonly string[]): DecimalString {
  return combine(values.length > 0 ? values : ["0"], () => 1n);
}

export function subtractDecimals(a: string, b: string): DecimalString {
  return combine([a, b], (index) => (index === 0 ? 1n : -1n));
}

export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const difference = parse(subtractDecimals(a, b)).units;
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}
