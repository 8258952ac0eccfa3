import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ActorRef } from "../lifecycle/actors.ts";
import type { DeploymentEvent } from "../lifecycle/event.ts";
import { DEPLOYMENT_STATES, isInTransitionMap } from "../lifecycle/states.ts";
import { DEFAULT_REGIONS } from "./deployment.ts";
import { createDeployment, transitionDeployment, updateDeployment } from "./operations.ts";

const operator: ActorRef = { type: "principal", id: "tok-op", role: "platform_admin" };
const tenantAdmin: ActorRef = { type: "principal", id: "tok-ta", role: "tenant_admin" };
const system: ActorRef = { type: "system", id: "billing-worker" };
const t0 = new Date("2026-11-01T00:00:00.000Z");

function newDeployment(overrides: Partial<Parameters<typeof createDeployment>[0]> = {}) {
  const result = createDeployment({
    id: "dep-1",
    eventId: "evt-1",
    tenantId: "ten-1",
    slug: "my-app",
    displayName: "My app",
    region: "au-syd",
    actor: tenantAdmin,
    now: t0,
    regions: DEFAULT_REGIONS,
    ...overrides,
  });
  if (!result.ok) throw result.error;
  return result.value;
}

describe("createDeployment", () => {
  it("starts active with a creation event from null, recorded with its actor", () => {
    const { deployment, event } = newDeployment();
    expect(deployment.state).toBe("active");
    expect(deployment.llmMode).toBe("shared");
    expect(deployment.billingActionSuspended).toBe(false);
    expect(event).toMatchObject({
      sequence: 1,
      fromState: null,
      toState: "active",
      actorType: "principal",
      actorId: "tok-ta",
      actorRole: "tenant_admin",
      occurredAt: t0,
    });
  });

  it("starts in trial when asked", () => {
    const { deployment, event } = newDeployment({ trial: true });
    expect(deployment.state).toBe("trial");
    expect(event.toState).toBe("trial");
  });

  it.each([
    ["slug", { slug: "A" }],
    ["slug", { slug: "-abc" }],
    ["slug", { slug: "abc-" }],
    ["slug", { slug: "a".repeat(64) }],
    ["slug", { slug: "has_underscore" }],
    ["displayName", { displayName: "" }],
    ["displayName", { displayName: "x".repeat(101) }],
    ["region", { region: "mars-1" }],
  ])("rejects a bad %s with VALIDATION_FAILED naming the field", (field, overrides) => {
    const result = createDeployment({
      id: "d",
      eventId: "e",
      tenantId: "t",
      slug: "ok-slug",
      displayName: "ok",
      region: "au-syd",
      actor: tenantAdmin,
      now: t0,
      regions: DEFAULT_REGIONS,
      ...overrides,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("VALIDATION_FAILED");
      expect(Object.keys(result.error.details.fields as object)).toEqual([field]);
    }
  });

  it("accepts 3- and 63-character slugs", () => {
    expect(newDeployment({ slug: "abc" }).deployment.slug).toBe("abc");
    expect(newDeployment({ slug: "a".repeat(63) }).deployment.slug).toHaveLength(63);
  });
});

describe("transitionDeployment", () => {
  it("appends the next event and changes the state", () => {
    const { deployment } = newDeployment();
    const later = new Date("2026-11-10T00:00:00.000Z");
    const result = transitionDeployment(deployment, {
      to: "paused",
      actor: tenantAdmin,
      reason: "holiday",
      eventId: "e2",
      now: later,
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      sequence: 2,
      fromState: "active",
      toState: "paused",
      reason: "holiday",
      occurredAt: later,
    });
    expect(deployment.state).toBe("paused");
    expect(deployment.lastEventSequence).toBe(2);
  });

  it("leaves the deployment untouched when refused", () => {
    const { deployment } = newDeployment();
    const before = { ...deployment };
    const result = transitionDeployment(deployment, {
      to: "archived",
      actor: operator,
      eventId: "e2",
      now: t0,
    });
    expect(result.ok ? "ok" : result.error.code).toBe("INVALID_TRANSITION");
    expect({ ...deployment }).toEqual(before);
  });

  it("rejects a reason over 500 characters", () => {
    const { deployment } = newDeployment();
    const result = transitionDeployment(deployment, {
      to: "paused",
      actor: operator,
      reason: "r".repeat(501),
      eventId: "e",
      now: t0,
    });
    expect(result.ok ? "ok" : result.error.code).toBe("VALIDATION_FAILED");
    expect(deployment.state).toBe("active");
  });

  it("any sequence of attempts leaves a gap-free chain along the map ending in the deployment's state (property)", () => {
    const actors = fc.constantFrom<ActorRef>(operator, tenantAdmin, system, {
      type: "principal",
      id: "v",
      role: "tenant_viewer",
    });
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...DEPLOYMENT_STATES), actors), { maxLength: 60 }),
        (trial, suspended, attempts) => {
          const { deployment, event } = newDeployment({ trial });
          deployment.billingActionSuspended = suspended;
          const log: DeploymentEvent[] = [event];
          attempts.forEach(([to, actor], i) => {
            const before = deployment.state;
            const result = transitionDeployment(deployment, {
              to,
              actor,
              eventId: `e${i}`,
              now: new Date(t0.getTime() + i),
            });
            if (result.ok) log.push(result.value);
            else expect(deployment.state).toBe(before);
            if (result.ok && actor.type === "system") expect(suspended).toBe(false);
          });
          log.forEach((e, i) => {
            expect(e.sequence).toBe(i + 1);
            if (i > 0) {
              expect(e.fromState).toBe(log[i - 1]!.toState);
              expect(isInTransitionMap(e.fromState!, e.toState)).toBe(true);
            }
          });
          expect(log.at(-1)!.toState).toBe(deployment.state);
          expect(deployment.lastEventSequence).toBe(log.length);
        },
      ),
    );
  });
});

describe("updateDeployment", () => {
  it("lets a tenant admin rename and change llmMode", () => {
    const { deployment } = newDeployment();
    const result = updateDeployment(deployment, { displayName: "Renamed", llmMode: "byok" }, tenantAdmin, t0);
    expect(result.ok).toBe(true);
    expect(deployment.displayName).toBe("Renamed");
    expect(deployment.llmMode).toBe("byok");
  });

  it("reserves billingActionSuspended to platform admins", () => {
    const { deployment } = newDeployment();
    const refused = updateDeployment(
      deployment,
      { billingActionSuspended: true, displayName: "x" },
      tenantAdmin,
      t0,
    );
    expect(refused.ok ? "ok" : refused.error.code).toBe("FORBIDDEN");
    expect(deployment.billingActionSuspended).toBe(false);
    expect(deployment.displayName).toBe("My app");
    expect(updateDeployment(deployment, { billingActionSuspended: true }, operator, t0).ok).toBe(true);
    expect(deployment.billingActionSuspended).toBe(true);
  });
});
