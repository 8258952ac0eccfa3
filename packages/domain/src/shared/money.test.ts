import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { divideRoundHalfEven, prorate, sumCents } from "./money.ts";

describe("divideRoundHalfEven", () => {
  it.each([
    [5n, 2n, 2n], // 2.5 → 2 (even)
    [7n, 2n, 4n], // 3.5 → 4 (even)
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [10n, 4n, 2n], // 2.5 → 2
    [14n, 4n, 4n], // 3.5 → 4
    [0n, 9n, 0n],
    [5n, -2n, -2n],
  ])("%d / %d = %d", (n, d, expected) => {
    expect(divideRoundHalfEven(n, d)).toBe(expected);
  });

  it("refuses division by zero", () => {
    expect(() => divideRoundHalfEven(1n, 0n)).toThrow(RangeError);
  });

  it("is within half of the exact quotient, and exactly half only when it lands on an even number", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (n, d) => {
          const q = divideRoundHalfEven(n, d);
          const twiceError = 2n * (q * d - n); // 2·(q − n/d)·d
          const abs = twiceError < 0n ? -twiceError : twiceError;
          expect(abs <= d).toBe(true);
          if (abs === d) expect(q % 2n).toBe(0n);
        },
      ),
    );
  });
});

describe("prorate", () => {
  const month = 30 * 86_400_000;

  it("charges the whole price for the whole period and nothing for none", () => {
    expect(prorate(4900, month, month)).toBe(4900);
    expect(prorate(4900, 0, month)).toBe(0);
  });

  it("charges half of an odd price to the even cent", () => {
    expect(prorate(4901, month / 2, month)).toBe(2450); // 2450.5 → 2450
    expect(prorate(4903, month / 2, month)).toBe(2452); // 2451.5 → 2452
  });

  it("refuses fractional prices and impossible durations", () => {
    expect(() => prorate(10.5, 1, 2)).toThrow(RangeError);
    expect(() => prorate(10, 1, 0)).toThrow(RangeError);
    expect(() => prorate(10, -1, 2)).toThrow(RangeError);
    expect(() => prorate(10, 0.5, 2)).toThrow(RangeError);
  });

  const price = fc.integer({ min: 0, max: 100_000_000 });
  const periodMs = fc.integer({ min: 1, max: 31 * 86_400_000 });

  it("always yields a non-negative integer no larger than the price", () => {
    fc.assert(
      fc.property(price, periodMs, fc.double({ min: 0, max: 1, noNaN: true }), (p, whole, share) => {
        const part = Math.floor(whole * share); // test input only
        const amount = prorate(p, part, whole);
        expect(Number.isInteger(amount)).toBe(true);
        expect(amount).toBeGreaterThanOrEqual(0);
        expect(amount).toBeLessThanOrEqual(p);
      }),
    );
  });

  it("differs by at most one cent when the billable time is split in two", () => {
    fc.assert(
      fc.property(price, periodMs, fc.nat(), fc.nat(), (p, whole, a, b) => {
        const first = a % (whole + 1);
        const second = b % (whole - first + 1);
        const split = prorate(p, first, whole) + prorate(p, second, whole);
        expect(Math.abs(split - prorate(p, first + second, whole))).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("sumCents", () => {
  it("adds integer amounts exactly", () => {
    expect(sumCents([])).toBe(0);
    expect(sumCents([4900, 750, 1])).toBe(5651);
  });

  it("refuses a sum beyond the safe integer range", () => {
    expect(() => sumCents([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });
});
