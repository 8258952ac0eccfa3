import { describe, expect, it } from "vitest";
import {
  type Addon,
  createAddon,
  createPlan,
  type PlanVersion,
  publishPlanVersion,
} from "../catalog/catalog.ts";
import { DEFAULT_REGIONS } from "../deployments/deployment.ts";
import { createDeployment } from "../deployments/operations.ts";
import type { ActorRef } from "../lifecycle/actors.ts";
import { unwrap } from "../shared/errors.ts";
import {
  attachAddon,
  changePlan,
  createSubscription,
  detachAddon,
  followDeploymentState,
  subscriptionStatusFor,
} from "./operations.ts";

const actor: ActorRef = { type: "principal", id: "tok", role: "tenant_admin" };
const now = new Date("2026-11-25T19:00:00.000Z");

function version(code: string, priceCents: number, v = 0, currency = "AUD"): PlanVersion {
  const plan = unwrap(createPlan({ id: `plan-${code}`, code, name: code, now }));
  return unwrap(publishPlanVersion(plan, v, { id: `pv-${code}-${v + 1}`, priceCents, currency, now }));
}

function addon(overrides: Partial<Parameters<typeof createAddon>[0]> = {}): Addon {
  return unwrap(
    createAddon({
      id: "ad-1",
      code: "storage_50gb",
      name: "Storage",
      resourceKind: "storage",
      qty: "50",
      priceCents: 750,
      now,
      ...overrides,
    }),
  );
}

function subscribed(opts: { trial?: boolean; planVersion?: PlanVersion } = {}) {
  const { deployment } = unwrap(
    createDeployment({
      id: "dep",
      eventId: "e1",
      tenantId: "ten",
      slug: "app",
      displayName: "App",
      region: "au-syd",
      trial: opts.trial,
      actor,
      now,
      regions: DEFAULT_REGIONS,
    }),
  );
  const planVersion = opts.planVersion ?? version("studio", 4900);
  const { subscription, planChange } = unwrap(
    createSubscription({
      id: "sub",
      planChangeId: "pc1",
      deployment,
      planVersion,
      alreadySubscribed: false,
      actor,
      now,
    }),
  );
  return { deployment, subscription, planChange, planVersion };
}

describe("createSubscription", () => {
  it("opens the current UTC calendar month and records the initial plan version", () => {
    const { subscription, planChange } = subscribed();
    expect(subscription.currentPeriodStart.toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(subscription.currentPeriodEnd.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(subscription.status).toBe("active");
    expect(subscription.trialEndsAt).toBeNull();
    expect(planChange).toMatchObject({
      kind: "initial",
      fromPlanVersion: null,
      effectiveAt: now,
      actorId: "tok",
    });
  });

  it("sets trialEndsAt to now plus the plan's trial days for a trial deployment", () => {
    const { subscription } = subscribed({ trial: true });
    expect(subscription.trialEndsAt?.toISOString()).toBe("2026-12-09T19:00:00.000Z");
  });

  it.each(["cancelled", "archived"] as const)("is refused for a %s deployment", (state) => {
    const { deployment, planVersion } = subscribed();
    deployment.state = state;
    const result = createSubscription({
      id: "s2",
      planChangeId: "p",
      deployment,
      planVersion,
      alreadySubscribed: false,
      actor,
      now,
    });
    expect(result.ok ? "ok" : result.error.code).toBe("DEPLOYMENT_NOT_SUBSCRIBABLE");
  });

  it("is refused when a subscription exists", () => {
    const { deployment, planVersion } = subscribed();
    const result = createSubscription({
      id: "s2",
      planChangeId: "p",
      deployment,
      planVersion,
      alreadySubscribed: true,
      actor,
      now,
    });
    expect(result.ok ? "ok" : result.error.code).toBe("ALREADY_SUBSCRIBED");
  });
});

describe("add-on snapshots", () => {
  it("copies kind, qty, price and currency at attach time; later catalog changes do not reprice it", () => {
    const { subscription } = subscribed();
    const live = addon();
    const attachment = unwrap(attachAddon(subscription, live, { id: "att", now }));
    live.priceCents = 999;
    live.qty = "100";
    expect(attachment).toMatchObject({
      addonCode: "storage_50gb",
      resourceKind: "storage",
      qty: "50",
      priceCents: 750,
      currency: "AUD",
      attachedAt: now,
      detachedAt: null,
    });
  });

  it("refuses an add-on in another currency", () => {
    const { subscription } = subscribed();
    const result = attachAddon(subscription, addon({ currency: "USD" }), { id: "att", now });
    expect(result.ok ? "ok" : result.error.code).toBe("CURRENCY_MISMATCH");
  });

  it("refuses an inactive add-on and a cancelled subscription", () => {
    const { subscription } = subscribed();
    expect(attachAddon(subscription, addon({ active: false }), { id: "a", now }).ok).toBe(false);
    subscription.status = "cancelled";
    const result = attachAddon(subscription, addon(), { id: "a", now });
    expect(result.ok ? "ok" : result.error.code).toBe("DEPLOYMENT_NOT_SUBSCRIBABLE");
  });

  it("detaching keeps the attachment with its end instant, once", () => {
    const { subscription } = subscribed();
    const attachment = unwrap(attachAddon(subscription, addon(), { id: "att", now }));
    const later = new Date(now.getTime() + 1000);
    unwrap(detachAddon(attachment, later));
    expect(attachment.detachedAt).toEqual(later);
    expect(attachment.priceCents).toBe(750);
    const again = detachAddon(attachment, later);
    expect(again.ok ? "ok" : again.error.code).toBe("CONFLICT");
  });
});

describe("changePlan", () => {
  it("takes effect now when immediate", () => {
    const { subscription } = subscribed();
    const scale = version("scale", 19900);
    const change = unwrap(
      changePlan(subscription, {
        id: "pc2",
        target: scale,
        effective: "immediate",
        actor,
        now,
        scheduled: [],
        lastSequence: 1,
      }),
    );
    expect(subscription.planVersion).toBe(scale);
    expect(change).toMatchObject({ kind: "immediate", effectiveAt: now, toPlanVersion: scale });
    expect(change?.fromPlanVersion?.id).toBe("pv-studio-1");
  });

  it("is pending until the period's end when period_end", () => {
    const { subscription, planVersion } = subscribed();
    const scale = version("scale", 19900);
    const change = unwrap(
      changePlan(subscription, {
        id: "pc2",
        target: scale,
        effective: "period_end",
        actor,
        now,
        scheduled: [],
        lastSequence: 1,
      }),
    );
    expect(subscription.planVersion).toBe(planVersion);
    expect(subscription.pendingPlanVersion).toBe(scale);
    expect(change?.effectiveAt).toEqual(subscription.currentPeriodEnd);
  });

  it("a new request supersedes a scheduled one; asking for the current version cancels it", () => {
    const { subscription, planVersion } = subscribed();
    const scale = version("scale", 19900);
    const scheduled = unwrap(
      changePlan(subscription, {
        id: "pc2",
        target: scale,
        effective: "period_end",
        actor,
        now,
        scheduled: [],
        lastSequence: 1,
      }),
    )!;
    const result = unwrap(
      changePlan(subscription, {
        id: "pc3",
        target: planVersion,
        effective: "period_end",
        actor,
        now,
        scheduled: [scheduled],
        lastSequence: 2,
      }),
    );
    expect(result).toBeNull();
    expect(scheduled.supersededAt).toEqual(now);
    expect(subscription.pendingPlanVersion).toBeNull();
  });

  it("refuses another currency and the version already in effect", () => {
    const { subscription, planVersion } = subscribed();
    const usd = version("usd_plan", 100, 0, "USD");
    const mismatch = changePlan(subscription, {
      id: "x",
      target: usd,
      effective: "immediate",
      actor,
      now,
      scheduled: [],
      lastSequence: 1,
    });
    expect(mismatch.ok ? "ok" : mismatch.error.code).toBe("CURRENCY_MISMATCH");
    const same = changePlan(subscription, {
      id: "x",
      target: planVersion,
      effective: "immediate",
      actor,
      now,
      scheduled: [],
      lastSequence: 1,
    });
    expect(same.ok ? "ok" : same.error.code).toBe("CONFLICT");
  });
});

describe("subscription status follows the deployment", () => {
  it("mirrors paused, resumes and cancels for good", () => {
    const { subscription } = subscribed();
    expect(subscriptionStatusFor("trial")).toBe("active");
    expect(subscriptionStatusFor("suspended")).toBe("active");
    followDeploymentState(subscription, "paused", now);
    expect(subscription.status).toBe("paused");
    followDeploymentState(subscription, "active", now);
    expect(subscription.status).toBe("active");
    followDeploymentState(subscription, "cancelled", now);
    expect(subscription.status).toBe("cancelled");
    expect(subscription.cancelledAt).toEqual(now);
    followDeploymentState(subscription, "archived", new Date(now.getTime() + 1));
    expect(subscription.cancelledAt).toEqual(now);
  });
});
