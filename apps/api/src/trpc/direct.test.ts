import { runRolloverPass } from "@arcadia/db";
import { testBackends, waitForFeed } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { createLogger } from "@arcadia/runtime";
import fc from "fast-check";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApp } from "../app.ts";
import { allOperations } from "../operations/index.ts";
import { PrincipalCache } from "../principal-cache.ts";
import type { Services } from "../services.ts";
import { type Harness, startHarness } from "../testing/harness.ts";
import { directQueries } from "./direct.ts";
import { MAX_BATCH_CALLS } from "./limits.ts";

/** The header the test app answers with when the direct path leaves a request to tRPC's adapter. */
const FELL_THROUGH = "x-fell-through";

const QUERIES = allOperations.filter((op) => op.kind === "query").map((op) => op.name);

describe.each(testBackends())("direct tRPC queries on %s", (backend) => {
  let h: Harness;
  let direct: Hono;
  let reference: ReturnType<typeof newApp>;
  let tokens: string[];
  let ids: string[];
  /** Ids the generated inputs draw from: deployments, an invoice, tenants, unknown, malformed. */
  let pool: string[];

  beforeAll(async () => {
    h = await startHarness(backend);
    const own = await h.tenant();
    const other = await h.tenant();
    const subscribed = await h.deployment(own.admin, "direct-own");
    const subscribe = await h.request("POST", `/api/v1/deployments/${subscribed}/subscribe`, {
      token: own.admin,
      body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
    });
    expect(subscribe.status).toBe(201);
    const bare = await h.deployment(own.admin, "direct-bare");
    const theirs = await h.deployment(other.admin, "direct-theirs");
    // Close two periods, so that there are invoices to list and read.
    await runRolloverPass(h.db.orm, { now: new Date(Date.now() + 62 * 86_400_000) });
    // The event feed serves what is below its horizon: wait for it, so both paths read the same page.
    await waitForFeed(h.db.orm);
    const invoices = await h.request("GET", `/api/v1/deployments/${subscribed}/invoices`, {
      token: own.viewer,
    });
    expect(invoices.body.items.length).toBeGreaterThan(0);
    tokens = [h.adminToken, own.admin, own.viewer, other.viewer, "not-a-token"];
    ids = [subscribed, bare, theirs];
    pool = [
      ...ids,
      subscribed,
      invoices.body.items[0].id,
      own.tenantId,
      other.tenantId,
      "00000000-0000-7000-8000-000000000000",
      "not-an-id",
      "",
    ];
    // Both paths over the same database and one fixed clock, each with a token cache of its own.
    const at = new Date();
    const services = (): Services => ({
      orm: h.db.orm,
      now: () => at,
      regions: DEFAULT_REGIONS,
      logger: createLogger("silent"),
      principals: new PrincipalCache(),
    });
    direct = new Hono();
    direct.get("/trpc/*", directQueries(services(), allOperations), (c) =>
      c.body(null, 204, { [FELL_THROUGH]: "yes" }),
    );
    reference = newApp(services(), { directQueries: false });
  });
  afterAll(() => h?.close());

  // For each query, inputs it accepts (ids from the fixture, filled in when a case runs), so that
  // many generated calls succeed and bodies are compared, not only errors.
  const accepted: Record<string, (id: string) => unknown[]> = {
    "tenants.list": () => [{}, undefined],
    "catalog.listPlans": () => [{}, undefined],
    "catalog.listAddons": () => [{}, undefined],
    "catalog.getPlan": () => [{ code: "studio" }, { code: "hobby" }, { code: "nope" }],
    "deployments.list": (id) => [{}, undefined, { limit: 1 }, { state: "active" }, { tenantId: id }],
    "deployments.get": (id) => [{ id }],
    "deployments.resources": (id) => [{ id }],
    "deployments.entitlements": (id) => [{ id }],
    "invoices.list": (id) => [{}, undefined, { deploymentId: id }, { limit: 1 }],
    "invoices.get": (id) => [{ id }],
    "invoices.listForDeployment": (id) => [{ id }, { id, limit: 1 }],
    "invoices.upcoming": (id) => [{ id }],
    "invoices.payments": (id) => [{ id: pool[4] }, { id }],
    "tenants.get": (id) => [{ id: pool[5] }, { id: pool[6] }, { id }],
    "tenants.dunningPolicy": (id) => [{ id: pool[5] }, { id }],
    "deployments.collection": (id) => [{ id }],
  };
  // Mostly ids of things that exist (pool[0..4]), sometimes of other tenants or none at all.
  const wellFormed = fc.record({
    pick: fc.nat(),
    id: fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 4 }) }, { weight: 1, arbitrary: fc.nat({ max: 9 }) }),
  });
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(null, 7, "text", [1], {}),
    fc.record(
      {
        id: fc.oneof(fc.nat({ max: 9 }), fc.constant("\u0000")),
        code: fc.constantFrom("studio", ""),
        limit: fc.constantFrom(0, -1, 1000, "5"),
        cursor: fc.constantFrom("", "x", "eyJ9"),
        stray: fc.constant(true),
      },
      { requiredKeys: [] },
    ),
  );
  const inputOf = fc.oneof(
    { weight: 3, arbitrary: wellFormed.map((w) => ({ wellFormed: w })) },
    { weight: 1, arbitrary: junk.map((value) => ({ junk: value })) },
  );
  type Generated = { wellFormed: { pick: number; id: number } } | { junk: unknown };
  /** The input a generated choice stands for, for the procedure `name`. */
  function inputFor(name: string, choice: Generated): unknown {
    if ("junk" in choice) {
      const value = choice.junk as { id?: unknown } | undefined;
      return value && typeof value === "object" && typeof value.id === "number"
        ? { ...value, id: pool[value.id] }
        : value;
    }
    const options = accepted[name]?.(pool[choice.wellFormed.id]!) ?? [{}];
    return options[choice.wellFormed.pick % options.length];
  }

  const request = fc.record({
    names: fc.array(fc.constantFrom(...QUERIES, ...QUERIES, "deployments.create", "nope", ""), {
      minLength: 1,
      maxLength: 3,
    }),
    batch: fc.constantFrom(undefined, "1", "1", "0"),
    inputs: fc.array(inputOf, { minLength: 3, maxLength: 3 }),
    encoding: fc.constantFrom("json", "json", "json", "json", "malformed", "not-an-object", "absent"),
    token: fc.option(fc.constantFrom(0, 0, 1, 1, 2, 3, 4), { nil: undefined, freq: 12 }),
    headers: fc.constantFrom<Record<string, string>>(
      {},
      {},
      {},
      { "content-type": "application/json" },
      { "content-type": "text/plain" },
      { "trpc-accept": "application/jsonl" },
      { accept: "application/json, application/jsonl" },
    ),
  });

  function urlOf(r: typeof request extends fc.Arbitrary<infer T> ? T : never) {
    const batch = r.batch === "1";
    const params = new URLSearchParams();
    if (r.batch !== undefined) params.set("batch", r.batch);
    const input = batch
      ? Object.fromEntries(r.names.map((name, i) => [String(i), inputFor(name, r.inputs[i]!)]))
      : inputFor(r.names[0]!, r.inputs[0]!);
    if (r.encoding === "json" && input !== undefined) params.set("input", JSON.stringify(input));
    if (r.encoding === "malformed") params.set("input", '{"0":');
    if (r.encoding === "not-an-object") params.set("input", "[1,2]");
    const path = batch ? r.names.join(",") : r.names[0];
    return `http://localhost/trpc/${path}?${params}`;
  }

  it("answers generated queries exactly as tRPC's adapter does, or leaves them to it", async () => {
    let served = 0;
    let succeeded = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        runs++;
        const url = urlOf(r);
        const headers: Record<string, string> = { ...r.headers };
        if (r.token !== undefined) headers.authorization = `Bearer ${tokens[r.token]}`;
        const ours = await direct.request(url, { headers });
        if (ours.headers.has(FELL_THROUGH)) return;
        served++;
        if (ours.status === 200 || ours.status === 207) succeeded++;
        const theirs = await reference.request(url, { headers });
        expect({ url, status: ours.status, body: await ours.text() }).toEqual({
          url,
          status: theirs.status,
          body: await theirs.text(),
        });
        expect(ours.headers.get("content-type")).toBe(theirs.headers.get("content-type"));
        expect(ours.headers.get("vary")).toBe(theirs.headers.get("vary"));
      }),
      { numRuns: 500 },
    );
    // The comparison means something only if the direct path answered a fair share itself, and
    // many of those with data rather than an error.
    expect(served).toBeGreaterThan(runs / 4);
    expect(succeeded).toBeGreaterThan(served / 4);
  });

  it("answers what the typed client sends (a batch of one) directly, errors included", async () => {
    const url = `http://localhost/trpc/deployments.get,catalog.listPlans?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: { id: ids[2] }, 1: {} }),
    )}`;
    const headers = { authorization: `Bearer ${tokens[1]}` };
    const ours = await direct.request(url, { headers });
    expect(ours.status).toBe(207);
    const body = await ours.json();
    expect(body[0].error.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, path: "deployments.get" });
    expect(body[1].result.data.map((p: { code: string }) => p.code)).toEqual(["hobby", "scale", "studio"]);
    expect(await (await reference.request(url, { headers })).json()).toEqual(body);
  });

  it("leaves mutations, streaming and bodies to tRPC's adapter", async () => {
    const headers = { authorization: `Bearer ${tokens[0]}` };
    const cases: [string, Record<string, string>][] = [
      ["/trpc/deployments.create", headers],
      ["/trpc/deployments.get?batch=1", { ...headers, "trpc-accept": "application/jsonl" }],
      ["/trpc/deployments.get", { ...headers, "content-length": "2" }],
      ["/trpc/deployments.get?connectionParams=%7B%7D", headers],
      ["/trpc/deployments.get/", headers],
      [
        `/trpc/${Array(MAX_BATCH_CALLS + 1)
          .fill("catalog.listPlans")
          .join(",")}?batch=1`,
        headers,
      ],
    ];
    for (const [path, h_] of cases) {
      const ours = await direct.request(`http://localhost${path}`, { headers: h_ });
      expect(ours.headers.get(FELL_THROUGH), path).toBe("yes");
    }
  });
});
