import { describe, expect, it } from "vitest";
import { createPlan, type PlanVersion, publishPlanVersion } from "../catalog/catalog.ts";
import { DEFAULT_REGIONS } from "../deployments/deployment.ts";
import { createDeployment } from "../deployments/operations.ts";
import type { ActorRef } from "../lifecycle/actors.ts";
import { unwrap } from "../shared/errors.ts";
import { changePlan, createSubscription, followDeploymentState } from "../subscriptions/operations.ts";
import { PlanChange, type Subscription } from "../subscriptions/subscription.ts";
import type { StateChange } from "./billable-time.ts";
import {
  type BillingHistory,
  closeDuePeriods,
  convertTrial,
  currentPeriodInvoice,
  trialHasEnded,
} from "./rollover.ts";

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

function history(
  subscription: Subscription,
  changes: PlanChange[],
  events: StateChange[] = [],
): BillingHistory {
  return { subscription, planChanges: changes, attachments: [], events };
}

describe("closeDuePeriods", () => {
  it("closes nothing before the period has ended", () => {
    const { subscription, changes } = setup();
    const { invoices, next } = closeDuePeriods(
      history(subscription, changes),
      new Date("2026-12-31T23:59:59.999Z"),
      24,
    );
    expect(invoices).toEqual([]);
    expect(next.currentPeriodEnd.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("closes December, January and February by March, one invoice each, and no more than asked", () => {
    const { subscription, changes, event } = setup();
    const now = new Date("2027-03-05T00:00:00Z");
    const { invoices, next } = closeDuePeriods(history(subscription, changes, [event]), now, 24);
    expect(invoices.map((s) => s.periodStart.toISOString())).toEqual([
      "2026-12-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
      "2027-02-01T00:00:00.000Z",
    ]);
    expect(invoices[1]!.totalCents).toBe(4900);
    expect(next).toMatchObject({ endedAt: null, planVersionId: "pv-studio", pendingPlanVersionId: null });
    expect(next.currentPeriodStart.toISOString()).toBe("2027-03-01T00:00:00.000Z");
    const bounded = closeDuePeriods(history(subscription, changes, [event]), now, 2);
    expect(bounded.invoices).toHaveLength(2);
    expect(bounded.next.currentPeriodStart.toISOString()).toBe("2027-02-01T00:00:00.000Z");
  });

  it("applies a period-end plan change when the period rolls, and never a superseded one", () => {
    const { subscription, changes, event } = setup();
    const scale = pv("scale", 19900);
    const hobby = pv("hobby", 900);
    const superseded = unwrap(
      changePlan(subscription, {
        id: "pc2",
        target: hobby,
        effective: "period_end",
        actor,
        now: created,
        scheduled: [],
        lastSequence: 1,
      }),
    )!;
    changes.push(superseded);
    changes.push(
      unwrap(
        changePlan(subscription, {
          id: "pc3",
          target: scale,
          effective: "period_end",
          actor,
          now: created,
          scheduled: [superseded],
          lastSequence: 2,
        }),
      )!,
    );
    expect(superseded.supersededAt).not.toBeNull();
    const { invoices, next } = closeDuePeriods(
      history(subscription, changes, [event]),
      new Date("2027-02-01T00:00:00Z"),
      24,
    );
    expect(next.planVersionId).toBe("pv-scale");
    expect(next.pendingPlanVersionId).toBeNull();
    expect(invoices[1]!.lines.map((l) => l.refId)).toEqual(["pv-scale"]);
    expect(invoices[1]!.totalCents).toBe(19900);
  });

  it("keeps a change scheduled after the next period pending", () => {
    const { subscription, changes } = setup();
    const scale = pv("scale", 19900);
    changes.push(
      new PlanChange({
        ...changes[0]!,
        id: "pc-later",
        sequence: 2,
        kind: "period_end",
        toPlanVersion: scale,
        effectiveAt: new Date("2027-03-01T00:00:00Z"),
      }),
    );
    const { next } = closeDuePeriods(history(subscription, changes), new Date("2027-01-02T00:00:00Z"), 24);
    expect(next).toMatchObject({ planVersionId: "pv-studio", pendingPlanVersionId: "pv-scale" });
  });

  it("ends a cancelled subscription after the period the cancellation fell in", () => {
    const { subscription, changes } = setup();
    followDeploymentState(subscription, "cancelled", new Date("2027-01-15T00:00:00Z"));
    const { invoices, next } = closeDuePeriods(
      history(subscription, changes),
      new Date("2027-04-01T00:00:00Z"),
      24,
    );
    expect(invoices.map((s) => s.periodStart.toISOString())).toEqual([
      "2026-12-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
    expect(next.endedAt?.toISOString()).toBe("2027-02-01T00:00:00.000Z");
    const after = closeDuePeriods(
      history({ ...subscription, ...next, planVersion: subscription.planVersion }, changes),
      new Date("2027-04-01T00:00:00Z"),
      24,
    );
    expect(after.invoices).toEqual([]);
  });

  it("bills the upcoming invoice from the same history", () => {
    const { subscription, changes, event } = setup();
    expect(currentPeriodInvoice(history(subscription, changes, [event])).totalCents).toBe(
      closeDuePeriods(history(subscription, changes, [event]), new Date("2027-01-01T00:00:00Z"), 1)
        .invoices[0]!.totalCents,
    );
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
    expect(closeDuePeriods(history(subscription, [...changes, pending]), end, 1).next.planVersionId).toBe(
      scale.id,
    );
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
      expect(closeDuePeriods(history(subscription, log), end, 1).next.planVersionId).toBe(hobby.id);
    }
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
    const { next } = closeDuePeriods(history(subscription, changes), new Date("2027-02-01T00:00:00Z"), 1);
    subscription.currentPeriodStart = next.currentPeriodStart;
    subscription.currentPeriodEnd = next.currentPeriodEnd;
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
