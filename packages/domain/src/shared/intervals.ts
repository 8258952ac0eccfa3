/** Half-open millisecond intervals [start, end) and the set operations that proration needs. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

export function intervalLength(interval: Interval): number {
  return Math.max(0, interval.end - interval.start);
}

export function intersect(a: Interval, b: Interval): Interval | null {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return end > start ? { start, end } : null;
}

/** Total length of the overlap between a set of disjoint intervals and one interval. */
export function overlapMs(set: readonly Interval[], window: Interval): number {
  let total = 0;
  for (const interval of set) {
    const overlap = intersect(interval, window);
    if (overlap) total += intervalLength(overlap);
  }
  return total;
}

/** Sorts and merges touching or overlapping intervals into a disjoint set. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, interval.end) };
    } else {
      merged.push(interval);
    }
  }
  return merged;
}
