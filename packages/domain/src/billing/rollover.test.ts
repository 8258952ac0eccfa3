import { describe, expect, it } from "vitest";
import { createPlan, type PlanVersion, publishPlanVersion } from "../catalog/catalog.ts";
import { DEFAULT_REGIONS } from "../deployments/deployment.ts";
import { createDeployment } from "../deployments/operations.ts";
import type { ActorRef } from "../lifecycle/actors.ts";
import { unwrap } from "../shared/errors.ts";
import { changePlan, createSubscription, followDeploymentState } from "../subscriptions/operations.ts";
import type { PlanChange } from "../subscriptions/subscription.ts";
import { convertTrial, duePeriod, planVersionAt, rollOverPeriod, trialHasEnded } from "./rollover.ts";

const actor: ActorRef = { type: "principal", id: "tok", role: "tenant_admin" };
const created = new Date("2026-12-10T00:00:00.000Z");

function pv(code: string, priceCents: number): PlanVersion {
  return unwrap(
    publishPlanVersion(unwrap(createPlan({ id: code, code, name: code, now: created })), 0, {
      id: `pv-${code}`,
      priceCents,
      now: created,
    }),
  );
}

function setup(trial = false) {
  const { deployment, event } = unwrap(
    createDeployment({
      id: "d",
      eventId: "e1",
      tenantId: "t",
      slug: "app",
      displayName: "A",
      region: "au-syd",
      trial,
      actor,
      now: created,
      regions: DEFAULT_REGIONS,
    }),
  );
  const studio = pv("studio", 4900);
  const { subscription, planChange } = unwrap(
    createSubscription({
      id: "s",
      planChangeId: "pc1",
      deployment,
      planVersion: studio,
      alreadySubscribed: false,
      actor,
      now: created,
    }),
  );
  return { deployment, event, subscription, changes: [planChange] as PlanChange[], studio };
}

describe("rollOverPeriod", () => {
  it("is due only once the period has ended", () => {
    const { subscription } = setup();
    expect(duePeriod(subscription, new Date("2026-12-31T23:59:59.999Z"))).toBeNull();
    expect(duePeriod(subscription, new Date("2027-01-01T00:00:00.000Z"))?.end.toISOString()).toBe(
      "2027-01-01T00:00:00.000Z",
    );
  });

  it("advances December to January, then January to February", () => {
    const { subscription, changes } = setup();
    const now = new Date("2027-03-05T00:00:00Z");
    const next = rollOverPeriod(subscription, changes, now);
    expect(next?.start.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    rollOverPeriod(subscription, changes, now);
    expect(subscription.currentPeriodStart.toISOString()).toBe("2027-02-01T00:00:00.000Z");
    expect(subscription.currentPeriodEnd.toISOString()).toBe("2027-03-01T00:00:00.000Z");
  });

  it("a pending change applied at the period end, then an immediate one at that instant: the later holds", () => {
    const { subscription, changes } = setup();
    const scale = pv("scale", 19900);
    const hobby = pv("hobby", 0);
    const end = subscription.currentPeriodEnd;
    const pending = unwrap(
      changePlan(subscription, {
        id: "pc2",
        target: scale,
        effective: "period_end",
        actor,
        now: created,
        scheduled: [],
        lastSequence: 1,
      }),
    )!;
    rollOverPeriod(subscription, [...changes, pending], end);
    expect(subscription.planVersion.id).toBe(scale.id);
    const immediate = unwrap(
      changePlan(subscription, {
        id: "pc3",
        target: hobby,
        effective: "immediate",
        actor,
        now: end,
        scheduled: [],
        lastSequence: 2,
      }),
    )!;
    expect(immediate.effectiveAt).toEqual(pending.effectiveAt);
    for (const log of [
      [...changes, pending, immediate],
      [immediate, pending, ...changes],
    ]) {
      expect(planVersionAt(log, end)?.id).toBe(hobby.id);
    }
  });

  it("applies a period-end plan change when the period rolls", () => {
    const { subscription, changes, studio } = setup();
    const scale = pv("scale", 19900);
    changes.push(
      unwrap(
        changePlan(subscription, {
          id: "pc2",
          target: scale,
          effective: "period_end",
          actor,
          now: created,
          scheduled: [],
          lastSequence: 1,
        }),
      )!,
    );
    expect(planVersionAt(changes, new Date("2026-12-31T00:00:00Z"))).toBe(studio);
    rollOverPeriod(subscription, changes, new Date("2027-01-01T00:00:00Z"));
    expect(subscription.planVersion).toBe(scale);
    expect(subscription.pendingPlanVersion).toBeNull();
  });

  it("ends a cancelled subscription after the period the cancellation fell in", () => {
    const { subscription, changes } = setup();
    followDeploymentState(subscription, "cancelled", new Date("2027-01-15T00:00:00Z"));
    const later = new Date("2027-04-01T00:00:00Z");
    expect(rollOverPeriod(subscription, changes, later)).not.toBeNull(); // December: cancelled later, keep going
    expect(rollOverPeriod(subscription, changes, later)).toBeNull(); // January holds the cancellation
    expect(subscription.endedAt?.toISOString()).toBe("2027-02-01T00:00:00.000Z");
    expect(duePeriod(subscription, later)).toBeNull();
  });
});

describe("trial conversion", () => {
  it("converts as the system, dated when the trial ended", () => {
    const { deployment, subscription, event } = setup(true);
    const now = new Date("2027-01-20T00:00:00Z");
    expect(trialHasEnded(deployment, subscription, now)).toBe(true);
    const converted = unwrap(
      convertTrial(deployment, subscription, { eventId: "e2", lastEventAt: event.occurredAt }),
    );
    expect(converted).toMatchObject({
      fromState: "trial",
      toState: "active",
      actorType: "system",
      actorId: "billing-worker",
      sequence: 2,
    });
    expect(converted.occurredAt.toISOString()).toBe("2026-12-24T00:00:00.000Z");
    expect(deployment.state).toBe("active");
  });

  it("is not due before the trial ends", () => {
    const { deployment, subscription } = setup(true);
    expect(trialHasEnded(deployment, subscription, new Date("2026-12-23T23:59:59.999Z"))).toBe(false);
  });

  it("never dates the conversion inside a period already billed", () => {
    const { deployment, subscription, changes, event } = setup(true);
    rollOverPeriod(subscription, changes, new Date("2027-02-01T00:00:00Z"));
    const converted = unwrap(
      convertTrial(deployment, subscription, { eventId: "e2", lastEventAt: event.occurredAt }),
    );
    expect(converted.occurredAt.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("is refused under the operator override", () => {
    const { deployment, subscription, event } = setup(true);
    deployment.billingActionSuspended = true;
    const result = convertTrial(deployment, subscription, { eventId: "e2", lastEventAt: event.occurredAt });
    expect(result.ok ? "ok" : result.error.code).toBe("TRANSITION_NOT_ALLOWED");
    expect(deployment.state).toBe("trial");
  });
});
