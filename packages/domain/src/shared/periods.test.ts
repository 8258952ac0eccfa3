import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDays, calendarMonthOf, followingPeriod, periodLengthMs } from "./periods.ts";

const DAY = 86_400_000;
const iso = (d: Date) => d.toISOString();

describe("UTC calendar-month periods", () => {
  it("spans the month containing the instant", () => {
    const p = calendarMonthOf(new Date("2026-11-25T19:08:00.123Z"));
    expect(iso(p.start)).toBe("2026-11-01T00:00:00.000Z");
    expect(iso(p.end)).toBe("2026-12-01T00:00:00.000Z");
  });

  it("puts the first instant of a month in that month and the last millisecond before it in the previous", () => {
    expect(iso(calendarMonthOf(new Date("2027-03-01T00:00:00.000Z")).start)).toBe("2027-03-01T00:00:00.000Z");
    expect(iso(calendarMonthOf(new Date("2027-02-28T23:59:59.999Z")).start)).toBe("2027-02-01T00:00:00.000Z");
  });

  it("rolls December into January of the next year", () => {
    const next = followingPeriod(calendarMonthOf(new Date("2026-12-15T00:00:00Z")));
    expect(iso(next.start)).toBe("2027-01-01T00:00:00.000Z");
    expect(iso(next.end)).toBe("2027-02-01T00:00:00.000Z");
  });

  it.each([
    ["2027-02-10T00:00:00Z", 28],
    ["2028-02-10T00:00:00Z", 29],
    ["2100-02-10T00:00:00Z", 28],
    ["2000-02-10T00:00:00Z", 29],
    ["2026-04-10T00:00:00Z", 30],
    ["2026-12-31T23:59:59Z", 31],
  ])("the month of %s has %d days", (instant, days) => {
    expect(periodLengthMs(calendarMonthOf(new Date(instant)))).toBe(days * DAY);
  });

  it("consecutive periods tile time without gaps or overlaps (property)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1970-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }),
        (d) => {
          const p = calendarMonthOf(d);
          expect(p.start.getTime()).toBeLessThanOrEqual(d.getTime());
          expect(d.getTime()).toBeLessThan(p.end.getTime());
          const next = followingPeriod(p);
          expect(next.start.getTime()).toBe(p.end.getTime());
          expect([28, 29, 30, 31]).toContain(periodLengthMs(p) / DAY);
        },
      ),
    );
  });

  it("adds whole days", () => {
    expect(iso(addDays(new Date("2026-11-25T10:00:00Z"), 14))).toBe("2026-12-09T10:00:00.000Z");
  });
});
