import { testBackends } from "@arcadia/db/testing";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createClient, type RouterOutputs } from "../client.ts";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

/** The error payload a tRPC client receives (our formatter's `data`). */
function errorData(error: unknown): { code: string; httpStatus: number; details?: unknown } {
  expect(error).toBeInstanceOf(TRPCClientError);
  return (error as { data: { code: string; httpStatus: number; details?: unknown } }).data;
}

describe.each(testBackends())("tRPC and the typed client on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("runs the same operations as REST and returns identical JSON", async () => {
    const client = createClient({ url: h.url, token: t.admin });
    const created = await client.deployments.create.mutate({
      slug: "typed",
      displayName: "Typed",
      region: "au-mel",
      trial: true,
    });
    expectTypeOf(created).toEqualTypeOf<RouterOutputs["deployments"]["create"]>();
    expect(created.state).toBe("trial");
    await client.deployments.subscribe.mutate({
      id: created.id,
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    const moved = await client.deployments.transition.mutate({
      id: created.id,
      to: "active",
      reason: "converted",
    });
    expect(moved.event.actor).toMatchObject({ type: "principal", role: "tenant_admin" });
    const viaTrpc = await client.deployments.get.query({ id: created.id });
    const viaRest = await h.request("GET", `/api/v1/deployments/${created.id}`, { token: t.admin });
    expect(viaTrpc).toEqual(viaRest.body);
    const plans = await client.catalog.listPlans.query({});
    expect(plans.map((p) => p.code)).toEqual(["hobby", "scale", "studio"]);
    const upcoming = await client.invoices.upcoming.query({ id: created.id });
    expect(upcoming.status).toBe("upcoming");
    const page = await client.deployments.list.query({ limit: 1 });
    expect(page.items).toHaveLength(1);
  });

  it("carries the product's error code in data.code", async () => {
    const client = createClient({ url: h.url, token: t.admin });
    const dep = await client.deployments.create.mutate({ slug: "errs", displayName: "E", region: "au-syd" });
    const failure = await client.deployments.transition
      .mutate({ id: dep.id, to: "archived" })
      .catch((e: unknown) => e);
    expect(errorData(failure)).toMatchObject({
      code: "INVALID_TRANSITION",
      httpStatus: 422,
      details: { from: "active", to: "archived" },
    });
    const invalid = await client.deployments.create
      .mutate({ slug: "x", displayName: "", region: "au-syd" })
      .catch((e: unknown) => e);
    expect(errorData(invalid).code).toBe("VALIDATION_FAILED");
    const strict = await client.deployments.get
      .query({ id: dep.id, extra: 1 } as never)
      .catch((e: unknown) => e);
    expect(errorData(strict).code).toBe("VALIDATION_FAILED");
    const other = await h.tenant();
    const hidden = await createClient({ url: h.url, token: other.admin })
      .deployments.get.query({ id: dep.id })
      .catch((e: unknown) => e);
    expect(errorData(hidden).code).toBe("NOT_FOUND");
    const anonymous = await createClient({ url: h.url, token: "nope" })
      .catalog.listPlans.query({})
      .catch((e: unknown) => e);
    expect(errorData(anonymous)).toMatchObject({
      code: "UNAUTHENTICATED",
      httpStatus: 401,
    });
  });

  it("honours Idempotency-Key on mutations", async () => {
    const client = createClient({ url: h.url, token: t.admin, idempotencyKey: () => "trpc-key-1" });
    const first = await client.deployments.create.mutate({
      slug: "trpc-idem",
      displayName: "I",
      region: "au-syd",
    });
    const again = await client.deployments.create.mutate({
      slug: "trpc-idem",
      displayName: "I",
      region: "au-syd",
    });
    expect(again).toEqual(first);
  });
});
