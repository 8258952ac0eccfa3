import { describe, expect, it } from "vitest";
import type { ActorRef } from "./actors.ts";
import { DEPLOYMENT_STATES, type DeploymentState } from "./states.ts";
import { checkTransition } from "./transition.ts";

// The map of SPEC §3.2, transcribed row by row (columns: trial active past_due paused suspended cancelled archived).
const SPEC_MAP = `
trial     . x x . x x .
active    . . x x x x .
past_due  . x . . x x .
paused    . x . . . x .
suspended . x . . . x .
cancelled . . . . . . x
archived  . . . . . . .
`;

const specAllows = new Set<string>();
for (const row of SPEC_MAP.trim().split("\n")) {
  const [from, ...cells] = row.trim().split(/\s+/);
  cells.forEach((cell, i) => {
    if (cell === "x") specAllows.add(`${from}->${DEPLOYMENT_STATES[i]}`);
  });
}

const PERMITTED: Record<string, (from: DeploymentState, to: DeploymentState) => boolean> = {
  platform_admin: () => true,
  tenant_admin: (from, to) =>
    to === "cancelled" || ["active->paused", "paused->active", "trial->active"].includes(`${from}->${to}`),
  tenant_viewer: () => false,
  system: (from, to) =>
    [
      "trial->active",
      "trial->past_due",
      "active->past_due",
      "past_due->active",
      "past_due->suspended",
      "suspended->active",
      "suspended->cancelled",
      "cancelled->archived",
    ].includes(`${from}->${to}`),
};

const ACTORS: Record<string, ActorRef> = {
  platform_admin: { type: "principal", id: "tok-op", role: "platform_admin" },
  tenant_admin: { type: "principal", id: "tok-admin", role: "tenant_admin" },
  tenant_viewer: { type: "principal", id: "tok-viewer", role: "tenant_viewer" },
  system: { type: "system", id: "billing-worker" },
};

describe("the transition map", () => {
  it("has exactly the SPEC's 16 allowed pairs", () => {
    expect(specAllows.size).toBe(16);
  });

  for (const [actorName, actor] of Object.entries(ACTORS)) {
    describe(`for ${actorName}`, () => {
      for (const from of DEPLOYMENT_STATES) {
        for (const to of DEPLOYMENT_STATES) {
          const inMap = specAllows.has(`${from}->${to}`);
          const permitted = inMap && PERMITTED[actorName]!(from, to);
          const expected = !inMap ? "INVALID_TRANSITION" : permitted ? "ok" : "TRANSITION_NOT_ALLOWED";
          it(`${from} → ${to}: ${expected}`, () => {
            const result = checkTransition({ from, to, actor, billingActionSuspended: false });
            expect(result.ok ? "ok" : result.error.code).toBe(expected);
            if (!result.ok && expected === "INVALID_TRANSITION") {
              expect(result.error.details).toEqual({ from, to });
            }
          });
        }
      }
    });
  }
});

describe("the operator override (billingActionSuspended)", () => {
  it("refuses every system transition, even valid ones", () => {
    for (const pair of ["trial->active", "active->past_due", "cancelled->archived"]) {
      const [from, to] = pair.split("->") as [DeploymentState, DeploymentState];
      const result = checkTransition({ from, to, actor: ACTORS.system!, billingActionSuspended: true });
      expect(result.ok ? "ok" : result.error.code).toBe("TRANSITION_NOT_ALLOWED");
    }
  });

  it("still lets people transition", () => {
    const result = checkTransition({
      from: "active",
      to: "paused",
      actor: ACTORS.tenant_admin!,
      billingActionSuspended: true,
    });
    expect(result.ok).toBe(true);
  });

  it("reports an invalid pair as INVALID_TRANSITION before anything else", () => {
    const result = checkTransition({
      from: "paused",
      to: "archived",
      actor: ACTORS.system!,
      billingActionSuspended: true,
    });
    expect(result.ok ? "ok" : result.error.code).toBe("INVALID_TRANSITION");
  });
});
