import { DeploymentEvent } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAddon } from "../catalog/catalog.ts";
import { connect } from "../orm.ts";
import { newId } from "../shared/ids.ts";
import { attachAddon, changePlan, detachAddon, subscribe } from "../subscriptions/subscriptions.ts";
import {
  createTestDatabase,
  operator,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { createDeployment, loadSubscriptionDocument, transitionDeployment } from "./deployments.ts";
import { readDeploymentDocument } from "./document-read-model.ts";

describe.each(testBackends({ pooled: true }))("the deployment document read model on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T10:00:00.123Z"));
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  it("reads exactly what the entity manager loads", async () => {
    const t = await tenantFixture(db.orm, clock);
    const ctx = () => testContext(db.orm, clock);
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug: "read-model",
      displayName: "Read model",
      region: "au-syd",
      trial: true,
    });
    // A quantity and a price no JSON number could carry exactly.
    await createAddon(ctx(), operator, {
      code: "precise_read_model",
      name: "Precise",
      resourceKind: "storage",
      qty: "123456789012345678.123457",
      priceCents: 9007199254740,
    });
    await subscribe(ctx(), t.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }, { code: "precise_read_model" }],
    });
    clock.advance(1000);
    const attachment = await attachAddon(ctx(), t.admin, deployment.id, "compute_2vcpu");
    clock.advance(1000);
    await detachAddon(ctx(), t.admin, deployment.id, attachment.id);
    await transitionDeployment(ctx(), t.admin, deployment.id, { to: "active", reason: "go" });
    clock.advance(1000);
    await changePlan(ctx(), t.admin, deployment.id, { planCode: "scale", effective: "period_end" });
    clock.advance(1000);
    await changePlan(ctx(), t.admin, deployment.id, { planCode: "hobby", effective: "immediate" });
    clock.advance(1000);
    await changePlan(ctx(), t.admin, deployment.id, { planCode: "scale", effective: "period_end" });

    const em = db.orm.em.fork();
    const expected = {
      deployment: await em.findOneOrFail("Deployment", { id: deployment.id }),
      subscription: await loadSubscriptionDocument(em, deployment.id),
      events: await em.find(
        DeploymentEvent,
        { deploymentId: deployment.id },
        { orderBy: { sequence: "asc" } },
      ),
    };
    const read = await readDeploymentDocument(db.orm.em.fork(), operator, deployment.id);
    expect(JSON.parse(JSON.stringify(read))).toEqual(JSON.parse(JSON.stringify(expected)));
    // Pooled per transaction the document comes from the `arcadia_deployment_document` function (a
    // migration's copy of the invoice): the same, field for field. A change to the invoice
    // without a migration replacing the function fails here.
    const pooled = await connect({ url: db.url, pooling: "transaction", poolSize: 2 });
    try {
      const viaFunction = await readDeploymentDocument(pooled.em.fork(), operator, deployment.id);
      expect(JSON.parse(JSON.stringify(viaFunction))).toEqual(JSON.parse(JSON.stringify(expected)));
      await expect(readDeploymentDocument(pooled.em.fork(), operator, newId())).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    } finally {
      await pooled.close(true);
    }
    expect(read.subscription?.subscription.pendingPlanVersion?.plan.code).toBe("scale");
    expect(read.subscription?.planChanges).toHaveLength(4);
    expect(read.subscription?.addons.find((a) => a.addonCode === "precise_read_model")).toMatchObject({
      qty: "123456789012345678.123457",
      priceCents: 9007199254740,
    });
  });
});
