/**
 * Money is integer minor units (cents) in a JS number, which is exact up to 2^53.
 * Every ratio is computed on bigints and rounded once, half to even.
 */
export type Cents = number;

export function isCents(value: unknown): value is Cents {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function toCents(value: bigint): Cents {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount ${value} is outside the safe integer range`);
  return n;
}

/** numerator / denominator rounded half to even, exactly. */
export function divideRoundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError("division by zero");
  if (denominator < 0n) return divideRoundHalfEven(-numerator, -denominator);
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const quotient = n / denominator;
  const twiceRemainder = (n % denominator) * 2n;
  let rounded = quotient;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) {
    rounded = quotient + 1n;
  }
  return negative ? -rounded : rounded;
}

/** round_half_even(priceCents × partMs / wholeMs): the share of a price for part of a period. */
export function prorate(priceCents: Cents, partMs: number, wholeMs: number): Cents {
  if (!isCents(priceCents)) throw new RangeError(`price ${priceCents} is not an integer amount`);
  if (!Number.isSafeInteger(partMs) || !Number.isSafeInteger(wholeMs) || wholeMs <= 0 || partMs < 0) {
    throw new RangeError(`cannot prorate ${partMs} ms of ${wholeMs} ms`);
  }
  return toCents(divideRoundHalfEven(BigInt(priceCents) * BigInt(partMs), BigInt(wholeMs)));
}

export function sumCents(amounts: readonly Cents[]): Cents {
  let total = 0n;
  for (const amount of amounts) total += BigInt(amount);
  return toCents(total);
}

/** The largest amount: integer minor units stay exact in a JS number up to 2^53 − 1. */
export const MAX_CENTS = Number.MAX_SAFE_INTEGER;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const CURRENCY_RULE = "must be an ISO 4217 code such as AUD";
export const DEFAULT_CURRENCY = "AUD";
