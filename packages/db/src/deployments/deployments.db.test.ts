import { DeploymentEvent, isInTransitionMap, type Principal } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  createTestDatabase,
  deploymentDocument,
  operator,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import {
  createDeployment,
  findVisibleDeployment,
  listDeployments,
  transitionDeployment,
  updateDeployment,
} from "./deployments.ts";

describe.each(testBackends({ pooled: true }))("deployments on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T10:00:00.000Z"));
  let a: TenantFixture;
  let b: TenantFixture;
  const ctx = () => testContext(db.orm, clock);

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    a = await tenantFixture(db.orm, clock);
    b = await tenantFixture(db.orm, clock);
  });
  afterAll(() => db?.close());

  const create = (principal: Principal, slug: string, extra: object = {}) =>
    createDeployment(ctx(), principal, { slug, displayName: slug, region: "au-syd", ...extra });

  it("creates a deployment with its creation event, and reads it back as a document", async () => {
    const { deployment } = await create(a.admin, "shop", { trial: true, llmMode: "byok" });
    const doc = await deploymentDocument(ctx(), a.viewer, deployment.id);
    expect(doc.deployment).toMatchObject({
      slug: "shop",
      state: "trial",
      llmMode: "byok",
      tenantId: a.tenantId,
    });
    expect(doc.deployment.createdAt).toBe("2026-11-10T10:00:00.000Z");
    expect(doc.subscription).toBeNull();
    expect(doc.events).toHaveLength(1);
    expect(doc.events[0]).toMatchObject({
      sequence: 1,
      fromState: null,
      toState: "trial",
      actor: { type: "principal", id: a.admin.id, role: "tenant_admin" },
    });
  });

  it("refuses a taken slug in the same tenant (in any state) but allows it in another", async () => {
    await create(a.admin, "taken");
    expect(await codeOf(create(a.admin, "taken"))).toBe("SLUG_TAKEN");
    expect(await codeOf(create(b.admin, "taken"))).toBe("ok");
  });

  it("lets exactly one of many racing creations with one slug win", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => codeOf(create(a.admin, "racy"))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "SLUG_TAKEN")).toHaveLength(7);
    const page = await listDeployments(ctx(), a.admin, { limit: 200 });
    expect(page.items.filter((d) => d.slug === "racy")).toHaveLength(1);
  });

  it("hides another tenant's deployment as NOT_FOUND on reads and writes", async () => {
    const { deployment } = await create(a.admin, "private");
    expect(await codeOf(deploymentDocument(ctx(), b.admin, deployment.id))).toBe("NOT_FOUND");
    expect(await codeOf(transitionDeployment(ctx(), b.admin, deployment.id, { to: "paused" }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(updateDeployment(ctx(), b.admin, deployment.id, { displayName: "x" }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(deploymentDocument(ctx(), a.admin, "not-a-uuid"))).toBe("NOT_FOUND");
    expect((await deploymentDocument(ctx(), operator, deployment.id)).deployment.id).toBe(deployment.id);
  });

  it("records a transition with its actor and reason; refusals change nothing", async () => {
    const { deployment } = await create(a.admin, "cycle");
    clock.advance(1000);
    const { event } = await transitionDeployment(ctx(), a.admin, deployment.id, {
      to: "paused",
      reason: "holiday",
    });
    expect(event).toMatchObject({
      sequence: 2,
      fromState: "active",
      toState: "paused",
      reason: "holiday",
      actorId: a.admin.id,
    });
    expect(await codeOf(transitionDeployment(ctx(), operator, deployment.id, { to: "archived" }))).toBe(
      "INVALID_TRANSITION",
    );
    expect(await codeOf(transitionDeployment(ctx(), a.viewer, deployment.id, { to: "active" }))).toBe(
      "TRANSITION_NOT_ALLOWED",
    );
    expect(await codeOf(transitionDeployment(ctx(), a.admin, deployment.id, { to: "suspended" }))).toBe(
      "INVALID_TRANSITION",
    );
    const doc = await deploymentDocument(ctx(), a.admin, deployment.id);
    expect(doc.deployment.state).toBe("paused");
    expect(doc.events.map((e) => e.sequence)).toEqual([1, 2]);
  });

  it("serialises racing transitions: no lost update, gap-free sequences, state = last event", async () => {
    const { deployment } = await create(a.admin, "contended");
    const targets = [
      "paused",
      "active",
      "paused",
      "active",
      "cancelled",
      "paused",
      "active",
      "past_due",
      "suspended",
      "active",
    ] as const;
    const attempts = Array.from({ length: 40 }, (_, i) =>
      codeOf(transitionDeployment(ctx(), operator, deployment.id, { to: targets[i % targets.length]! })),
    );
    const results = await Promise.all(attempts);
    expect(results.every((r) => ["ok", "INVALID_TRANSITION"].includes(r))).toBe(true);
    const doc = await deploymentDocument(ctx(), a.admin, deployment.id);
    const events = doc.events;
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events).toHaveLength(1 + results.filter((r) => r === "ok").length);
    events.slice(1).forEach((e, i) => {
      expect(e.fromState).toBe(events[i]!.toState);
      expect(isInTransitionMap(e.fromState!, e.toState)).toBe(true);
    });
    expect(doc.deployment.state).toBe(events.at(-1)!.toState);
    expect((await findVisibleDeployment(db.orm.em.fork(), operator, deployment.id)).lastEventSequence).toBe(
      events.length,
    );
  });

  it("keeps billingActionSuspended for platform admins", async () => {
    const { deployment } = await create(a.admin, "override");
    expect(
      await codeOf(updateDeployment(ctx(), a.admin, deployment.id, { billingActionSuspended: true })),
    ).toBe("FORBIDDEN");
    expect(await codeOf(updateDeployment(ctx(), a.viewer, deployment.id, { displayName: "v" }))).toBe(
      "FORBIDDEN",
    );
    const updated = await updateDeployment(ctx(), operator, deployment.id, {
      billingActionSuspended: true,
      displayName: "Renamed",
    });
    expect(updated).toMatchObject({ billingActionSuspended: true, displayName: "Renamed" });
    expect((await deploymentDocument(ctx(), a.admin, deployment.id)).deployment.billingActionSuspended).toBe(
      true,
    );
  });

  it("pages through a tenant's deployments with a cursor, filtered by state, never showing another tenant's", async () => {
    const page1 = await listDeployments(ctx(), a.viewer, { limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const seen = [...page1.items];
    let cursor = page1.nextCursor;
    while (cursor) {
      const next = await listDeployments(ctx(), a.viewer, { limit: 2, cursor });
      seen.push(...next.items);
      cursor = next.nextCursor;
    }
    const all = await listDeployments(ctx(), a.viewer, { limit: 200 });
    expect(seen.map((d) => d.id)).toEqual(all.items.map((d) => d.id));
    expect(new Set(seen.map((d) => d.id)).size).toBe(seen.length);
    expect(seen.every((d) => d.tenantId === a.tenantId)).toBe(true);
    const paused = await listDeployments(ctx(), a.viewer, { state: "paused" });
    expect(paused.items.length).toBeGreaterThan(0);
    expect(paused.items.every((d) => d.state === "paused")).toBe(true);
    const forB = await listDeployments(ctx(), operator, { tenantId: b.tenantId });
    expect(forB.items.every((d) => d.tenantId === b.tenantId)).toBe(true);
    expect(await codeOf(listDeployments(ctx(), a.viewer, { cursor: "garbage!" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(listDeployments(ctx(), a.viewer, { limit: 0 }))).toBe("VALIDATION_FAILED");
  });

  it("stores instants to the millisecond", async () => {
    clock.set("2026-11-10T10:00:00.123Z");
    const { deployment } = await create(a.admin, "millis");
    const events = await db.orm.em.fork().find(DeploymentEvent, { deploymentId: deployment.id });
    expect(events[0]!.occurredAt.toISOString()).toBe("2026-11-10T10:00:00.123Z");
  });
});
