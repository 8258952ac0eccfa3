import { runRolloverPass } from "@arcadia/db";
import { testBackends, waitForFeed } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";
import { allOperations } from "./index.ts";
import { type Operation, pathParams } from "./operation.ts";

/**
 * Drill 5, the isolation matrix: every operation × every role × own or other tenant gives the
 * expected status, over REST and over tRPC. Writes run against fresh fixtures, so each cell is
 * judged on its own.
 *
 * It is also where every operation's output is proven to match its schema: production sends
 * responses unchecked (`checkResponses`), so each successful answer here, over both transports, is
 * parsed with the operation's output schema and must come out unchanged; the last test requires
 * that this happened for every operation (the two clock operations, NOT_A_SANDBOX in the matrix,
 * on a sandbox of their own).
 */
type Who = "operator" | "adminOwn" | "viewerOwn" | "adminOther" | "viewerOther";
const WHO: Who[] = ["operator", "adminOwn", "viewerOwn", "adminOther", "viewerOther"];

//                                       operator adminOwn viewerOwn adminOther viewerOther
const EXPECTED: Record<string, [number, number, number, number, number]> = {
  "tenants.list": [200, 403, 403, 403, 403],
  "tenants.create": [201, 403, 403, 403, 403],
  // The own tenant here is an ordinary one (test-clocks.test.ts covers sandboxes): its clock is
  // NOT_A_SANDBOX to those who may ask, read-only tokens may not, another tenant's is not found.
  "tenants.clock": [422, 422, 403, 404, 404],
  "tenants.advanceClock": [422, 422, 403, 404, 404],
  "tokens.create": [201, 201, 403, 404, 403],
  "tokens.revoke": [200, 200, 403, 404, 404],
  "catalog.listPlans": [200, 200, 200, 200, 200],
  "catalog.getPlan": [200, 200, 200, 200, 200],
  "catalog.createPlan": [201, 403, 403, 403, 403],
  "catalog.publishPlanVersion": [201, 403, 403, 403, 403],
  "catalog.listAddons": [200, 200, 200, 200, 200],
  "catalog.createAddon": [201, 403, 403, 403, 403],
  "catalog.updateAddon": [200, 403, 403, 403, 403],
  "invoices.list": [200, 200, 200, 200, 200],
  "invoices.get": [200, 200, 200, 404, 404],
  "invoices.listForDeployment": [200, 200, 200, 404, 404],
  "invoices.upcoming": [200, 200, 200, 404, 404],
  "deployments.list": [200, 200, 200, 200, 200],
  "deployments.create": [201, 201, 403, 201, 403],
  "deployments.get": [200, 200, 200, 404, 404],
  "deployments.update": [200, 200, 403, 404, 404],
  "deployments.transition": [200, 200, 403, 404, 404],
  "deployments.subscribe": [201, 201, 403, 404, 404],
  "deployments.resources": [200, 200, 200, 404, 404],
  "deployments.entitlements": [200, 200, 200, 404, 404],
  "subscriptions.attachAddon": [201, 201, 403, 404, 404],
  "subscriptions.detachAddon": [200, 200, 403, 404, 404],
  "subscriptions.changePlan": [200, 200, 403, 404, 404],
  "resources.register": [201, 403, 403, 404, 404],
  "resources.release": [200, 403, 403, 404, 404],
  "tenants.get": [200, 200, 403, 404, 404],
  "tenants.update": [200, 403, 403, 404, 404],
  "tenants.setPaymentMethod": [200, 200, 403, 404, 404],
  "tenants.removePaymentMethod": [200, 200, 403, 404, 404],
  "tenants.dunningPolicy": [200, 200, 403, 404, 404],
  "tenants.setDunningPolicy": [200, 403, 403, 404, 404],
  "invoices.payments": [200, 200, 200, 404, 404],
  "invoices.recordPayment": [201, 403, 403, 404, 404],
  "invoices.pay": [200, 200, 403, 404, 404],
  "invoices.void": [200, 403, 403, 404, 404],
  "invoices.markUncollectible": [200, 403, 403, 404, 404],
  "deployments.collection": [200, 200, 200, 404, 404],
  "events.list": [200, 200, 200, 200, 200],
  "events.get": [200, 200, 200, 404, 404],
  "webhooks.list": [200, 200, 200, 200, 200],
  "webhooks.create": [201, 201, 403, 201, 403],
  "webhooks.get": [200, 200, 200, 404, 404],
  "webhooks.update": [200, 200, 403, 404, 404],
  "webhooks.delete": [200, 200, 403, 404, 404],
  "webhooks.rotateSecret": [200, 200, 403, 404, 404],
  "webhooks.deliveries": [200, 200, 200, 404, 404],
  "webhooks.redeliver": [202, 202, 403, 404, 404],
};

describe.each(testBackends())("isolation matrix on %s", (backend) => {
  let h: Harness;
  let own: TenantTokens;
  let other: TenantTokens;
  let invoiceId: string;
  let eventId: string;
  let n = 0;
  /** Operations whose successful output was parsed with their schema and came out unchanged. */
  const checked = new Set<string>();

  /** The output schema makes nothing of the answer but itself: nothing missing, stripped or changed. */
  function expectItsSchema(op: Operation, output: unknown) {
    const parsed = op.output.safeParse(output);
    expect(parsed.error).toBeUndefined();
    expect(parsed.data).toStrictEqual(output);
    checked.add(op.name);
  }

  beforeAll(async () => {
    h = await startHarness(backend);
    own = await h.tenant();
    other = await h.tenant();
    const fixture = await freshFixture(true);
    await runRolloverPass(h.db.orm, { now: new Date(Date.now() + 62 * 86_400_000) });
    const list = await h.request("GET", `/api/v1/deployments/${fixture.deployment}/invoices`, {
      token: own.viewer,
    });
    invoiceId = list.body.items[0].id;
    await waitForFeed(h.db.orm);
    eventId = (await h.request("GET", "/api/v1/events", { token: own.viewer })).body.items[0].id;
  });
  afterAll(() => h?.close());

  /** A deployment of the own tenant with a subscription, an attachment and a resource. */
  async function freshFixture(subscribed: boolean) {
    const ids: Record<string, string> = { deployment: await h.deployment(own.admin, `m-${++n}`, "M") };
    if (subscribed) {
      const sub = await h.request("POST", `/api/v1/deployments/${ids.deployment}/subscribe`, {
        token: own.admin,
        body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
      });
      ids.attachment = sub.body.addons[0].id;
      // An open invoice of its own, so that paying, voiding… is judged on each cell afresh.
      ids.invoice = crypto.randomUUID();
      await h.db.orm.em
        .fork()
        .getConnection()
        .execute(
          `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at)
           select ?, ?, tenant_id, deployment_id, id, '2020-01-01', '2020-02-01', 'AUD', 4900, 'open', now(), now() from subscriptions where deployment_id = ?`,
          [ids.invoice, `INV-MATRIX-${ids.invoice}`, ids.deployment],
        );
    }
    await h.request("PUT", `/api/v1/tenants/${own.tenantId}/payment-method`, {
      body: { provider: "sandbox", token: "tok_ok" },
    });
    ids.resource = (
      await h.request("POST", `/api/v1/deployments/${ids.deployment}/resources`, {
        body: { kind: "storage", providerRef: `v-${n}`, qty: "1" },
      })
    ).body.id;
    ids.endpoint = (
      await h.request("POST", "/api/v1/webhook-endpoints", {
        token: own.admin,
        body: { url: `https://hooks.example.com/${n}` },
      })
    ).body.id;
    ids.token = (
      await h.request("POST", "/api/v1/tokens", {
        token: own.admin,
        body: { role: "tenant_viewer", name: `t-${n}` },
      })
    ).body.id;
    return ids;
  }

  function tokenOf(who: Who): string {
    return {
      operator: h.adminToken,
      adminOwn: own.admin,
      viewerOwn: own.viewer,
      adminOther: other.admin,
      viewerOther: other.viewer,
    }[who];
  }

  function requestFor(name: string, ids: Record<string, string>, who: Who): { path: string; body?: unknown } {
    const d = ids.deployment;
    const unique = `${++n}`;
    const tenantId = who === "operator" ? own.tenantId : undefined;
    switch (name) {
      case "tenants.create":
        return { path: "/tenants", body: { slug: `tenant-${unique}`, name: "T" } };
      case "tenants.clock":
        return { path: `/tenants/${own.tenantId}/clock` };
      case "tenants.advanceClock":
        return { path: `/tenants/${own.tenantId}/clock/advance`, body: { to: "2099-01-01T00:00:00.000Z" } };
      case "tokens.create":
        return { path: "/tokens", body: { role: "tenant_viewer", tenantId: own.tenantId, name: "x" } };
      case "tokens.revoke":
        return { path: `/tokens/${ids.token}` };
      case "catalog.getPlan":
        return { path: "/plans/studio" };
      case "catalog.createPlan":
        return { path: "/plans", body: { code: `plan_${unique}`, name: "P", priceCents: 100 } };
      case "catalog.publishPlanVersion":
        return { path: "/plans/hobby/versions", body: { priceCents: 0 } };
      case "catalog.createAddon":
        return {
          path: "/addons",
          body: { code: `addon_${unique}`, name: "A", resourceKind: "storage", qty: "1", priceCents: 1 },
        };
      case "catalog.updateAddon":
        return { path: "/addons/llm_tokens_1m", body: { name: "LLM tokens 1M" } };
      case "webhooks.create":
        return {
          path: "/webhook-endpoints",
          body: { url: `https://hooks.example.com/c-${unique}`, ...(tenantId ? { tenantId } : {}) },
        };
      case "webhooks.update":
        return { path: `/webhook-endpoints/${ids.endpoint}`, body: { description: "changed" } };
      case "webhooks.redeliver":
        return { path: `/webhook-endpoints/${ids.endpoint}/deliveries/${eventId}/redeliver` };
      case "webhooks.get":
      case "webhooks.delete":
      case "webhooks.rotateSecret":
      case "webhooks.deliveries": {
        const op = allOperations.find((o) => o.name === name)!;
        return { path: op.path.replace("{id}", ids.endpoint!) };
      }
      case "events.get":
        return { path: `/events/${eventId}` };
      case "invoices.get":
        return { path: `/invoices/${invoiceId}` };
      case "invoices.payments":
        return { path: `/invoices/${invoiceId}/payments` };
      case "invoices.recordPayment":
        return { path: `/invoices/${ids.invoice}/payments`, body: { amountCents: 100 } };
      case "invoices.pay":
      case "invoices.void":
      case "invoices.markUncollectible": {
        const op = allOperations.find((o) => o.name === name)!;
        return { path: op.path.replace("{id}", ids.invoice!) };
      }
      case "tenants.get":
      case "tenants.dunningPolicy":
      case "tenants.removePaymentMethod": {
        const op = allOperations.find((o) => o.name === name)!;
        return { path: op.path.replace("{id}", own.tenantId) };
      }
      case "tenants.update":
        return { path: `/tenants/${own.tenantId}`, body: { paymentTermsDays: 7 } };
      case "tenants.setPaymentMethod":
        return {
          path: `/tenants/${own.tenantId}/payment-method`,
          body: { provider: "sandbox", token: "tok_ok" },
        };
      case "tenants.setDunningPolicy":
        return {
          path: `/tenants/${own.tenantId}/dunning-policy`,
          body: {
            retryAfterDays: [1, 3],
            pastDueAfterDays: 0,
            suspendAfterDays: 14,
            cancelAfterDays: 30,
            archiveAfterDays: 60,
          },
        };
      case "deployments.create":
        return {
          path: "/deployments",
          body: {
            slug: `c-${unique}`,
            displayName: "C",
            region: "au-syd",
            ...(tenantId ? { tenantId } : {}),
          },
        };
      case "deployments.update":
        return { path: `/deployments/${d}`, body: { displayName: "Renamed" } };
      case "deployments.transition":
        return { path: `/deployments/${d}/transition`, body: { to: "paused" } };
      case "deployments.subscribe":
        return { path: `/deployments/${d}/subscribe`, body: { planCode: "hobby" } };
      case "subscriptions.attachAddon":
        return { path: `/deployments/${d}/subscription/addons`, body: { code: "compute_2vcpu" } };
      case "subscriptions.detachAddon":
        return { path: `/deployments/${d}/subscription/addons/${ids.attachment}` };
      case "subscriptions.changePlan":
        return {
          path: `/deployments/${d}/subscription/change-plan`,
          body: { planCode: "scale", effective: "immediate" },
        };
      case "resources.register":
        return {
          path: `/deployments/${d}/resources`,
          body: { kind: "compute", providerRef: "vm", qty: "1" },
        };
      case "resources.release":
        return { path: `/deployments/${d}/resources/${ids.resource}` };
      default: {
        const op = allOperations.find((o) => o.name === name)!;
        return { path: op.path.replace("{id}", d!) };
      }
    }
  }

  it("covers every operation", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(allOperations.map((o) => o.name).sort());
  });

  /** The tRPC input of a REST request: its path parameters and body fields, as one object. */
  function trpcInput(op: Operation, path: string, body: unknown): Record<string, unknown> {
    const pattern = new RegExp(`^${op.path.replace(/\{\w+\}/g, "([^/]+)")}$`);
    const values = pattern.exec(path)!.slice(1);
    const params = Object.fromEntries(pathParams(op.path).map((name, i) => [name, values[i]]));
    return { ...params, ...(body as object) };
  }

  for (const op of allOperations) {
    it(`${op.name}: ${EXPECTED[op.name]?.join(" ")}`, async () => {
      const got: number[] = [];
      for (const who of WHO) {
        const ids = await freshFixture(op.name !== "deployments.subscribe");
        const { path, body } = requestFor(op.name, ids, who);
        const r = await h.request(op.method.toUpperCase(), `/api/v1${path}`, { token: tokenOf(who), body });
        got.push(r.status);
        if (r.status < 300) expectItsSchema(op, r.body);
      }
      expect(got).toEqual(EXPECTED[op.name]);
    });

    // The same cells over tRPC, sent as the typed client sends them (a batch of one): the same
    // statuses, except that a tRPC success is always 200 (201 and 202 too).
    it(`${op.name} over tRPC`, async () => {
      const got: number[] = [];
      for (const who of WHO) {
        const ids = await freshFixture(op.name !== "deployments.subscribe");
        const { path, body } = requestFor(op.name, ids, who);
        const input = JSON.stringify({ 0: trpcInput(op, path, body) });
        const r =
          op.kind === "query"
            ? await h.request("GET", `/trpc/${op.name}?batch=1&input=${encodeURIComponent(input)}`, {
                token: tokenOf(who),
              })
            : await h.request("POST", `/trpc/${op.name}?batch=1`, {
                token: tokenOf(who),
                rawBody: input,
                headers: { "content-type": "application/json" },
              });
        got.push(r.status);
        if (r.status >= 400) expect(r.body[0].error.data.httpStatus).toBe(r.status);
        else expectItsSchema(op, r.body[0].result.data);
      }
      expect(got).toEqual(
        EXPECTED[op.name]!.map((status) => (status === 201 || status === 202 ? 200 : status)),
      );
    });
  }

  it("checked every operation's output against its schema", async () => {
    const sandbox = await h.tenant(undefined, { testClock: { frozenAt: "2026-01-01T00:00:00.000Z" } });
    const clock = allOperations.find((o) => o.name === "tenants.clock")!;
    const advance = allOperations.find((o) => o.name === "tenants.advanceClock")!;
    const read = await h.request("GET", `/api/v1/tenants/${sandbox.tenantId}/clock`, {
      token: sandbox.admin,
    });
    expect(read.status).toBe(200);
    expectItsSchema(clock, read.body);
    const advanced = await h.request("POST", `/api/v1/tenants/${sandbox.tenantId}/clock/advance`, {
      token: sandbox.admin,
      body: { to: "2026-03-01T00:00:00.000Z" },
    });
    expect(advanced.status).toBe(200);
    expectItsSchema(advance, advanced.body);
    expect([...checked].sort()).toEqual(allOperations.map((o) => o.name).sort());
  });
});
