/** Billing periods are UTC calendar months, half-open: [first day 00:00Z, first day of next month 00:00Z). */
export interface Period {
  readonly start: Date;
  readonly end: Date;
}

const MS_PER_DAY = 86_400_000;

export function calendarMonthOf(instant: Date): Period {
  const start = Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), 1);
  const end = Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + 1, 1);
  return { start: new Date(start), end: new Date(end) };
}

/** The calendar month that starts where this period ends. */
export function followingPeriod(period: Period): Period {
  return calendarMonthOf(period.end);
}

export function periodLengthMs(period: Period): number {
  return period.end.getTime() - period.start.getTime();
}

export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * MS_PER_DAY);
}

export function contains(period: Period, instant: Date): boolean {
  return instant.getTime() >= period.start.getTime() && instant.getTime() < period.end.getTime();
}

export function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

export function earlierOf(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
