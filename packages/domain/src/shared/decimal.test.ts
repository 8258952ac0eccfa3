import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDecimals,
  compareDecimals,
  isDecimalString,
  normalizeDecimal,
  subtractDecimals,
} from "./decimal.ts";

describe("decimal quantities", () => {
  it("normalises to canonical text", () => {
    expect(normalizeDecimal("50.0000")).toBe("50");
    expect(normalizeDecimal("0.500")).toBe("0.5");
    expect(normalizeDecimal("007")).toBe("7");
    expect(normalizeDecimal("-0.0")).toBe("0");
  });

  it("adds and subtracts without floating point error", () => {
    expect(addDecimals("0.1", "0.2")).toBe("0.3");
    expect(addDecimals("1", "0.5", "50")).toBe("51.5");
    expect(subtractDecimals("10", "10.25")).toBe("-0.25");
    expect(addDecimals()).toBe("0");
    expect(addDecimals("999999999999999999", "1")).toBe("1000000000000000000");
  });

  it("compares", () => {
    expect(compareDecimals("0.5", "0.50")).toBe(0);
    expect(compareDecimals("2", "10")).toBe(-1);
    expect(compareDecimals("-1", "-2")).toBe(1);
  });

  it("accepts decimals up to six fractional digits and rejects anything else", () => {
    for (const ok of ["0", "50", "0.5", "1000000", "1.123456", "12.50"])
      expect(isDecimalString(ok)).toBe(true);
    for (const bad of ["", "abc", "1e3", "1.1234567", ".5", "5.", "0x10", " ", "NaN", "Infinity"]) {
      expect(isDecimalString(bad)).toBe(false);
    }
  });

  it("agrees with integer arithmetic on scaled values (property)", () => {
    const micro = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });
    const text = (units: bigint) => {
      const negative = units < 0n;
      const digits = (negative ? -units : units).toString().padStart(7, "0");
      return `${negative ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
    };
    fc.assert(
      fc.property(micro, micro, (a, b) => {
        expect(addDecimals(text(a), text(b))).toBe(normalizeDecimal(text(a + b)));
        expect(subtractDecimals(text(a), text(b))).toBe(normalizeDecimal(text(a - b)));
      }),
    );
  });
});
