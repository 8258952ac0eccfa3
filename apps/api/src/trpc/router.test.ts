import { testBackends } from "@arcadia/db/testing";
import { TRPCClientError } from "@trpc/client";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { type CallContext, createClient, type RouterOutputs } from "../client.ts";
import { allOperations } from "../operations/index.ts";
import { MAX_BODY_BYTES } from "../rest/body.ts";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";
import { MAX_BATCH_CALLS } from "./limits.ts";
import { appRouter } from "./router.ts";

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

  it("serves every operation of the table as a procedure of its kind; list queries need no input", async () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    expect(Object.keys(procedures).sort()).toEqual(allOperations.map((op) => op.name).sort());
    for (const op of allOperations) expect(procedures[op.name]!._def.type, op.name).toBe(op.kind);

    const client = createClient({ url: h.url, token: t.admin });
    const plans = await client.catalog.listPlans.query();
    expect(plans).toEqual(await client.catalog.listPlans.query({}));
    expect((await client.catalog.listAddons.query()).length).toBeGreaterThan(0);
    expect((await client.deployments.list.query()).items.length).toBeGreaterThan(0);
    expect((await client.invoices.list.query()).nextCursor).toBeNull();
    const plain = await h.request("GET", "/trpc/catalog.listPlans", { token: t.admin });
    expect(plain.status).toBe(200);
    expect((plain.body as { result: { data: unknown } }).result.data).toEqual(plans);
    // An operation that needs input still refuses none.
    const missing = await client.deployments.get.query(undefined as never).catch(errorData);
    expect(missing).toMatchObject({ code: "VALIDATION_FAILED", httpStatus: 400 });
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

  it("gives each mutation its own Idempotency-Key, even when several go out in one tick", async () => {
    let n = 0;
    const client = createClient({ url: h.url, token: t.admin, idempotencyKey: () => `tick-key-${++n}` });
    const [a, b] = await Promise.all([
      client.deployments.create.mutate({ slug: "tick-a", displayName: "A", region: "au-syd" }),
      client.deployments.create.mutate({ slug: "tick-b", displayName: "B", region: "au-syd" }),
    ]);
    expect([a.slug, b.slug]).toEqual(["tick-a", "tick-b"]);
    // Retried with its key, a mutation is replayed, not done again.
    const replay = await h.request("POST", "/trpc/deployments.create", {
      token: t.admin,
      body: { slug: "tick-a", displayName: "A", region: "au-syd" },
      headers: { "idempotency-key": "tick-key-1" },
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const fresh = await h.request("POST", "/trpc/deployments.create", {
      token: t.admin,
      body: { slug: "tick-c", displayName: "C", region: "au-syd" },
      headers: { "idempotency-key": "tick-key-fresh" },
    });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("idempotent-replayed")).toBeNull();
    expect([a.id, b.id]).toContain(replay.body.result.data.id);
  });

  it("refuses a keyed batch of several mutations before running any, and takes a keyed batch of one", async () => {
    const create = (slug: string) => ({ slug, displayName: "K", region: "au-syd" });
    const send = (path: string, body: unknown, key: string) =>
      h.request("POST", path, {
        token: t.admin,
        rawBody: JSON.stringify(body),
        headers: { "content-type": "application/json", "idempotency-key": key },
      });
    const refused = await send(
      "/trpc/deployments.create,deployments.create?batch=1",
      { 0: create("keyed-a"), 1: create("keyed-b") },
      "batch-key-1",
    );
    expect(refused.status).toBe(400);
    for (const item of refused.body) {
      expect(item.error.data).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { fields: { "Idempotency-Key": "covers one call, not a batch" } },
      });
    }
    const listed = await h.request("GET", "/api/v1/deployments?limit=200", { token: t.admin });
    expect(listed.body.items.map((d: { slug: string }) => d.slug)).not.toContain("keyed-a");
    const one = await send("/trpc/deployments.create?batch=1", { 0: create("keyed-c") }, "batch-key-2");
    expect(one.status).toBe(200);
    expect(one.body[0].result.data.slug).toBe("keyed-c");
  });

  it("takes a mutation's Idempotency-Key from its call context, so that a retry is recognised", async () => {
    let generated = 0;
    const client = createClient({ url: h.url, token: t.admin, idempotencyKey: () => `gen-${++generated}` });
    const input = { slug: "ctx-retry", displayName: "R", region: "au-syd" } as const;
    const context = { idempotencyKey: "ctx-key-1" } satisfies CallContext;
    const first = await client.deployments.create.mutate(input, { context });
    const retried = await client.deployments.create.mutate(input, { context });
    expect(retried).toEqual(first);
    expect(generated).toBe(0);
    // Without a key in the context, each request gets a fresh one: a second create is a new write.
    const other = await client.deployments.create.mutate(input).catch((e: unknown) => e);
    expect(errorData(other).code).toBe("SLUG_TAKEN");
    expect(generated).toBe(1);
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

  it("refuses a batch of more than MAX_BATCH_CALLS calls whole, and serves one of exactly that many", async () => {
    const batch = (n: number, name: string) => `/trpc/${Array(n).fill(name).join(",")}?batch=1`;
    const each = (n: number, input: (i: number) => unknown) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), input(i)])));
    const queries = (n: number) =>
      `${batch(n, "catalog.listPlans")}&input=${encodeURIComponent(each(n, () => ({})))}`;
    const full = await h.request("GET", queries(MAX_BATCH_CALLS), { token: t.viewer });
    expect(full.status).toBe(200);
    expect(full.body).toHaveLength(MAX_BATCH_CALLS);
    const over = await h.request("GET", queries(MAX_BATCH_CALLS + 1), { token: t.viewer });
    expect(over.status).toBe(400);
    expect(over.body.error.data).toMatchObject({
      code: "VALIDATION_FAILED",
      httpStatus: 400,
      details: { fields: { "(batch)": `at most ${MAX_BATCH_CALLS} calls` } },
    });
    const before = await h.request("GET", "/api/v1/deployments", { token: t.admin });
    const writes = each(MAX_BATCH_CALLS + 1, (i) => ({
      slug: `batch-${i}`,
      displayName: "B",
      region: "au-syd",
    }));
    const refused = await h.request("POST", batch(MAX_BATCH_CALLS + 1, "deployments.create"), {
      token: t.admin,
      rawBody: writes,
      headers: { "content-type": "application/json" },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.data.code).toBe("VALIDATION_FAILED");
    const after = await h.request("GET", "/api/v1/deployments", { token: t.admin });
    expect(after.body.items).toEqual(before.body.items);
  });

  it("the typed client splits what one tick asks for into batches the server accepts", async () => {
    const client = createClient({ url: h.url, token: t.admin });
    const id = await h.deployment(t.admin, "many-reads");
    // More calls than one batch may carry, each with an input long enough that together they
    // would pass the URL limit too.
    const reads = await Promise.all(
      Array.from({ length: MAX_BATCH_CALLS * 2 + 7 }, (_, i) =>
        i % 2 === 0
          ? client.deployments.get.query({ id })
          : client.deployments.list.query({ cursor: undefined, limit: 1 + (i % 50), state: "active" }),
      ),
    );
    expect(reads).toHaveLength(MAX_BATCH_CALLS * 2 + 7);
    expect((reads[0] as RouterOutputs["deployments"]["get"]).deployment.id).toBe(id);
    // Long inputs: forty 500-character cursors would make a 20 KiB URL, over Node's 16 KiB limit.
    // Split, every call reaches the server and gets its own answer (here: the cursor is refused).
    const answers = await Promise.allSettled(
      Array.from({ length: 40 }, () => client.deployments.list.query({ cursor: "x".repeat(500) })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe("rejected");
      expect(errorData((answer as PromiseRejectedResult).reason).code).toBe("VALIDATION_FAILED");
    }
  });

  it("refuses a body over 1 MiB with 413 in tRPC's error shape, so the client sees data.code", async () => {
    const client = createClient({ url: h.url, token: t.admin });
    const failure = await client.deployments.create
      .mutate({ slug: "huge", displayName: "x".repeat(MAX_BODY_BYTES), region: "au-syd" })
      .catch((e: unknown) => e);
    expect(errorData(failure)).toMatchObject({ code: "PAYLOAD_TOO_LARGE", httpStatus: 413 });
    const batched = await h.request("POST", "/trpc/deployments.create,deployments.create?batch=1", {
      token: t.admin,
      rawBody: JSON.stringify({ 0: { pad: "x".repeat(MAX_BODY_BYTES) } }),
      headers: { "content-type": "application/json" },
    });
    expect(batched.status).toBe(413);
    expect(batched.body.error).toMatchObject({
      code: TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE,
      data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 },
    });
  });
});
