import { type DeploymentState, isBillableState } from "../lifecycle/states.ts";
import { type Interval, mergeIntervals } from "../shared/intervals.ts";

export interface StateChange {
  readonly sequence: number;
  readonly toState: DeploymentState;
  readonly occurredAt: Date;
}

/**
 * The intervals during which a deployment was billable (active or past_due), read from its event
 * log. Each event's state holds from its instant until the next event; the last holds to `until`.
 * Instants are taken in sequence order and never run backwards (a skewed clock cannot create
 * negative time).
 */
export function billableIntervals(events: readonly StateChange[], until: Date): Interval[] {
  const ordered = [...events].sort((a, b) => a.sequence - b.sequence);
  const intervals: Interval[] = [];
  let floor = Number.NEGATIVE_INFINITY;
  const untilMs = until.getTime();
  ordered.forEach((event, index) => {
    const start = Math.max(floor, event.occurredAt.getTime());
    floor = start;
    const next = ordered[index + 1];
    const end = next ? Math.max(start, next.occurredAt.getTime()) : Math.max(start, untilMs);
    if (isBillableState(event.toState) && end > start) intervals.push({ start, end });
  });
  return mergeIntervals(intervals);
}
