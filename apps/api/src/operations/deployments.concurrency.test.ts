import { testBackends } from "@arcadia/db/testing";
import { DEPLOYMENT_STATES, isInTransitionMap } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

/** Drill 1: hundreds of concurrent, conflicting transitions on a few deployments, over HTTP. */
describe.each(testBackends({ pooled: true }))("concurrent conflicting transitions on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("never answers 5xx and leaves every event chain valid, gap-free and ending in the state", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await h.deployment(t.admin, `hot-${i}`, "Hot");
      await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
        token: t.admin,
        body: { planCode: "studio" },
      });
      ids.push(id);
    }
    const targets = DEPLOYMENT_STATES.filter((s) => s !== "archived" && s !== "cancelled");
    const requests = Array.from({ length: 400 }, (_, i) => {
      const token = i % 3 === 0 ? h.adminToken : t.admin;
      const to = i % 97 === 0 ? "cancelled" : targets[(i * 7) % targets.length]!;
      return h.request("POST", `/api/v1/deployments/${ids[i % ids.length]}/transition`, {
        token,
        body: { to, reason: `r${i}` },
      });
    });
    const results = await Promise.all(requests);
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect([...statuses.keys()].every((s) => [200, 403, 422].includes(s))).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);

    let applied = 0;
    for (const id of ids) {
      const doc = await h.request("GET", `/api/v1/deployments/${id}`, { token: t.viewer });
      const events = doc.body.events as { sequence: number; fromState: string | null; toState: string }[];
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
      events.slice(1).forEach((e, i) => {
        expect(e.fromState).toBe(events[i]!.toState);
        expect(isInTransitionMap(e.fromState as never, e.toState as never)).toBe(true);
      });
      expect(doc.body.deployment.state).toBe(events.at(-1)!.toState);
      const paused = doc.body.deployment.state === "paused";
      const cancelled = ["cancelled", "archived"].includes(doc.body.deployment.state);
      expect(doc.body.subscription.status).toBe(cancelled ? "cancelled" : paused ? "paused" : "active");
      applied += events.length - 1;
    }
    expect(applied).toBe(statuses.get(200));
  });
});
