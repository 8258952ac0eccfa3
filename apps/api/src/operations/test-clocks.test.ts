import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../testing/harness.ts";

const DAY = 86_400_000;

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
type Json = any;

/** round_half_even(n / d) on integers, written here independently of the code under test. */
function roundHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (2n * r > d) return q + 1n;
  if (2n * r < d) return q;
  return q % 2n === 0n ? q : q + 1n;
}

describe.each(testBackends())("test clocks over the public API on %s", (backend) => {
  let h: Harness;
  let n = 0;

  // An ordinary tenant with billing data, looked at before any advance and after all of them.
  let ordinary: { tenantId: string; admin: string; deploymentId: string; before: unknown };
  const ordinaryData = async () => ({
    document: (
      await h.request("GET", `/api/v1/deployments/${ordinary.deploymentId}`, { token: ordinary.admin })
    ).body,
    invoices: (await h.request("GET", `/api/v1/invoices?limit=200`, { token: ordinary.admin })).body,
    upcoming: (
      await h.request("GET", `/api/v1/deployments/${ordinary.deploymentId}/invoices/upcoming`, {
        token: ordinary.admin,
      })
    ).body,
  });

  beforeAll(async () => {
    h = await startHarness(backend);
    const t = await h.tenant();
    const id = await deployment(t.admin, { trial: true });
    await subscribe(t.admin, id, { planCode: "studio", addons: [{ code: "storage_50gb" }] });
    ordinary = { tenantId: t.tenantId, admin: t.admin, deploymentId: id, before: null };
    ordinary.before = await ordinaryData();
  });
  afterAll(() => h?.close());

  /** A sandbox tenant with an admin token (and a viewer), made over the API. */
  /** Pays by `token` (the advance runs collection: `tok_ok` keeps the ladder out of billing tests). */
  async function sandbox(frozenAt: string, token: string | null = "tok_ok") {
    const t = await h.tenant(`sandbox-${++n}`, { testClock: { frozenAt } });
    if (token) {
      const r = await h.request("PUT", `/api/v1/tenants/${t.tenantId}/payment-method`, {
        token: t.admin,
        body: { provider: "sandbox", token },
      });
      expect(r.status).toBe(200);
    }
    return t;
  }

  async function deployment(token: string, opts: { trial?: boolean } = {}) {
    const r = await h.request("POST", "/api/v1/deployments", {
      token,
      body: { slug: `app-${++n}`, displayName: "App", region: "au-syd", ...opts },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  }

  async function subscribe(token: string, id: string, body: object) {
    const r = await h.request("POST", `/api/v1/deployments/${id}/subscribe`, { token, body });
    expect(r.status).toBe(201);
    return r.body;
  }

  async function transition(token: string, id: string, to: string) {
    const r = await h.request("POST", `/api/v1/deployments/${id}/transition`, { token, body: { to } });
    expect(r.status).toBe(200);
    return r.body;
  }

  async function advance(token: string, tenantId: string, to: string, headers: Record<string, string> = {}) {
    return h.request("POST", `/api/v1/tenants/${tenantId}/clock/advance`, { token, body: { to }, headers });
  }

  async function advanced(token: string, tenantId: string, to: string) {
    const r = await advance(token, tenantId, to);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  }

  async function invoices(token: string, deploymentId: string) {
    const r = await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices?limit=200`, { token });
    expect(r.status).toBe(200);
    // Ids, the number (a serial shared with other tenants) and an add-on line's attachment id differ
    // between tenants; everything else must match.
    return r.body.items.map(
      ({ id: _i, number: _n, tenantId: _t, deploymentId: _d, subscriptionId: _s, lines, ...rest }: Json) => ({
        ...rest,
        lines: lines.map((line: Json) => (line.kind === "addon" ? { ...line, refId: "(attachment)" } : line)),
      }),
    );
  }

  async function clockOf(token: string, tenantId: string) {
    return h.request("GET", `/api/v1/tenants/${tenantId}/clock`, { token });
  }

  it("creates sandbox tenants that show as such; ordinary tenants have no clock", async () => {
    const made = await h.request("POST", "/api/v1/tenants", {
      body: { slug: `shown-${++n}`, name: "Shown", testClock: { frozenAt: "2027-01-15T09:30:00.000Z" } },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ sandbox: true, clock: { frozenAt: "2027-01-15T09:30:00.000Z" } });
    const plain = await h.request("POST", "/api/v1/tenants", {
      body: { slug: `plain-${++n}`, name: "Plain" },
    });
    expect(plain.body).toMatchObject({ sandbox: false, clock: null });
    const list = await h.request("GET", "/api/v1/tenants");
    const byId = new Map(list.body.map((t: { id: string }) => [t.id, t]));
    expect(byId.get(made.body.id)).toMatchObject({
      sandbox: true,
      clock: { frozenAt: "2027-01-15T09:30:00.000Z" },
    });
    expect(byId.get(plain.body.id)).toMatchObject({ sandbox: false, clock: null });
    const malformed = await h.request("POST", "/api/v1/tenants", {
      body: { slug: `bad-${++n}`, name: "Bad", testClock: { frozenAt: "2027-01-15" } },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.fields).toHaveProperty(["testClock.frozenAt"]);
  });

  it("a year advanced month by month and in one call gives the same invoices to the cent, each at its instant", async () => {
    const start = "2027-01-15T09:30:00.000Z";
    const end = "2028-01-15T09:30:00.000Z";
    const setUp = async () => {
      const t = await sandbox(start);
      const withAddon = await deployment(t.admin);
      await subscribe(t.admin, withAddon, { planCode: "studio", addons: [{ code: "storage_50gb" }] });
      const r = await h.request("POST", `/api/v1/deployments/${withAddon}/subscription/change-plan`, {
        token: t.admin,
        body: { planCode: "scale", effective: "period_end" },
      });
      expect(r.status).toBe(200);
      const trial = await deployment(t.admin, { trial: true });
      await subscribe(t.admin, trial, { planCode: "studio" });
      const paused = await deployment(t.admin);
      await subscribe(t.admin, paused, { planCode: "scale" });
      await transition(t.admin, paused, "paused");
      return { t, ids: [withAddon, trial, paused] };
    };
    const monthly = await setUp();
    const once = await setUp();

    const steps = [
      ...Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2027, 1 + i, 1)).toISOString()),
      end,
    ];
    const summaries: Json[] = [];
    for (const to of steps) summaries.push(await advanced(monthly.t.admin, monthly.t.tenantId, to));
    const single = await advanced(once.t.admin, once.t.tenantId, end);

    // 12 period ends and the trial's end.
    expect(single).toMatchObject({
      from: start,
      to: end,
      clock: { frozenAt: end },
      instantsVisited: 13,
      invoicesIssued: 36,
      transitionsMade: 1,
    });
    expect(single.instants[0]).toEqual({
      at: "2027-01-29T09:30:00.000Z",
      invoicesIssued: 0,
      transitionsMade: 1,
    });
    expect(single.instants.slice(1).map((i: { at: string }) => i.at)).toEqual(steps.slice(0, 12));
    const sum = (key: string) => summaries.reduce((total, s) => total + s[key], 0);
    expect([sum("invoicesIssued"), sum("transitionsMade"), sum("instantsVisited")]).toEqual([36, 1, 13]);
    expect(summaries.flatMap((s) => s.instants)).toEqual(single.instants);

    for (const [i, id] of monthly.ids.entries()) {
      const a = await invoices(monthly.t.admin, id);
      const b = await invoices(once.t.admin, once.ids[i]!);
      expect(a).toHaveLength(12);
      expect(a).toEqual(b);
      // Each invoice was issued at its period's end (the instant its pass ran), not at `to`.
      for (const invoice of a) expect(invoice.issuedAt).toBe(invoice.periodEnd);
    }
    const [withAddon, trial, paused] = await Promise.all(
      monthly.ids.map((id) => invoices(monthly.t.admin, id)),
    );
    // January from the subscription on (15 Jan 09:30) on studio + storage, then scale + storage in full.
    const january = BigInt(Date.UTC(2027, 1, 1) - Date.UTC(2027, 0, 1));
    const sinceSubscribed = BigInt(Date.UTC(2027, 1, 1) - Date.parse(start));
    expect(withAddon[0].totalCents).toBe(
      Number(
        roundHalfEven(4900n * sinceSubscribed, january) + roundHalfEven(750n * sinceSubscribed, january),
      ),
    );
    expect(withAddon.slice(1).map((i: { totalCents: number }) => i.totalCents)).toEqual(
      Array(11).fill(19900 + 750),
    );
    // The trial ended on 29 January 09:30: billed from there.
    const sinceTrialEnded = BigInt(Date.UTC(2027, 1, 1) - Date.parse("2027-01-29T09:30:00.000Z"));
    expect(trial[0].totalCents).toBe(Number(roundHalfEven(4900n * sinceTrialEnded, january)));
    expect(trial[0].lines[0].billableMs).toBe(Date.UTC(2027, 1, 1) - Date.parse("2027-01-29T09:30:00.000Z"));
    expect(paused.map((i: { totalCents: number }) => i.totalCents)).toEqual(Array(12).fill(0));
    const doc = await h.request("GET", `/api/v1/deployments/${monthly.ids[1]}`, { token: monthly.t.admin });
    expect(doc.body.deployment.state).toBe("active");
    expect(doc.body.events.at(-1)).toMatchObject({
      fromState: "trial",
      toState: "active",
      occurredAt: "2027-01-29T09:30:00.000Z",
      actor: { type: "system" },
    });
  });

  it("a pause of exactly 10 days in a 30-day month bills exactly 20/30 of the price", async () => {
    const t = await sandbox("2027-04-01T00:00:00.000Z");
    const id = await deployment(t.admin);
    await subscribe(t.admin, id, { planCode: "scale", addons: [{ code: "compute_2vcpu" }] });
    await advanced(t.admin, t.tenantId, "2027-04-11T00:00:00.000Z");
    const paused = await transition(t.admin, id, "paused");
    expect(paused.event.occurredAt).toBe("2027-04-11T00:00:00.000Z");
    await advanced(t.admin, t.tenantId, "2027-04-21T00:00:00.000Z");
    await transition(t.admin, id, "active");
    const summary = await advanced(t.admin, t.tenantId, "2027-05-01T00:00:00.000Z");
    expect(summary).toMatchObject({ instantsVisited: 1, invoicesIssued: 1, transitionsMade: 0 });

    const [april] = await invoices(t.admin, id);
    const period = BigInt(30 * DAY);
    const billable = BigInt(20 * DAY);
    const plan = roundHalfEven(19900n * billable, period); // 13266.67 → 13267
    const addon = roundHalfEven(2000n * billable, period); // 1333.33 → 1333
    expect(
      april.lines.map((l: { billableMs: number; periodMs: number; amountCents: number }) => [
        l.billableMs,
        l.periodMs,
        l.amountCents,
      ]),
    ).toEqual([
      [20 * DAY, 30 * DAY, Number(plan)],
      [20 * DAY, 30 * DAY, Number(addon)],
    ]);
    expect(april.totalCents).toBe(Number(plan + addon));
    expect(april).toMatchObject({
      periodStart: "2027-04-01T00:00:00.000Z",
      issuedAt: "2027-05-01T00:00:00.000Z",
    });
  });

  it("a trial converts at its trialEndsAt on the clock, as the system", async () => {
    const t = await sandbox("2027-06-03T05:00:00.000Z");
    const id = await deployment(t.admin, { trial: true });
    const sub = await subscribe(t.admin, id, { planCode: "studio" });
    expect(sub.trialEndsAt).toBe("2027-06-17T05:00:00.000Z");
    const early = await advanced(t.admin, t.tenantId, "2027-06-17T04:59:59.999Z");
    expect(early).toMatchObject({ instantsVisited: 0, transitionsMade: 0 });
    expect(
      (await h.request("GET", `/api/v1/deployments/${id}`, { token: t.admin })).body.deployment.state,
    ).toBe("trial");

    const summary = await advanced(t.admin, t.tenantId, "2027-07-01T00:00:00.000Z");
    expect(summary.instants).toEqual([
      { at: "2027-06-17T05:00:00.000Z", invoicesIssued: 0, transitionsMade: 1 },
      { at: "2027-07-01T00:00:00.000Z", invoicesIssued: 1, transitionsMade: 0 },
    ]);
    const doc = await h.request("GET", `/api/v1/deployments/${id}`, { token: t.admin });
    expect(doc.body.deployment.state).toBe("active");
    expect(doc.body.events.at(-1)).toMatchObject({
      fromState: "trial",
      toState: "active",
      occurredAt: "2027-06-17T05:00:00.000Z",
      actor: { type: "system" },
    });
    const [june] = await invoices(t.admin, id);
    const billable = BigInt(Date.parse("2027-07-01T00:00:00.000Z") - Date.parse("2027-06-17T05:00:00.000Z"));
    expect(june.totalCents).toBe(Number(roundHalfEven(4900n * billable, BigInt(30 * DAY))));
  });

  it("two sandboxes advanced at the same time each get their own results", async () => {
    const e = await sandbox("2027-01-01T00:00:00.000Z");
    const f = await sandbox("2027-01-01T00:00:00.000Z");
    const eIds = [await deployment(e.admin), await deployment(e.admin)];
    const fIds = [await deployment(f.admin), await deployment(f.admin), await deployment(f.admin)];
    for (const id of eIds) await subscribe(e.admin, id, { planCode: "studio" });
    for (const id of fIds) await subscribe(f.admin, id, { planCode: "scale" });
    const [eSummary, fSummary] = await Promise.all([
      advanced(e.admin, e.tenantId, "2027-07-01T00:00:00.000Z"),
      advanced(f.admin, f.tenantId, "2027-04-01T00:00:00.000Z"),
    ]);
    expect(eSummary).toMatchObject({ instantsVisited: 6, invoicesIssued: 12 });
    expect(fSummary).toMatchObject({ instantsVisited: 3, invoicesIssued: 9 });
    for (const id of eIds)
      expect((await invoices(e.admin, id)).map((i: { totalCents: number }) => i.totalCents)).toEqual(
        Array(6).fill(4900),
      );
    for (const id of fIds)
      expect((await invoices(f.admin, id)).map((i: { totalCents: number }) => i.totalCents)).toEqual(
        Array(3).fill(19900),
      );
    expect((await clockOf(e.admin, e.tenantId)).body.frozenAt).toBe("2027-07-01T00:00:00.000Z");
    expect((await clockOf(f.admin, f.tenantId)).body.frozenAt).toBe("2027-04-01T00:00:00.000Z");
  });

  it("concurrent advances of one clock are serialised: every period is billed once", async () => {
    const t = await sandbox("2027-01-01T00:00:00.000Z");
    const ids = [await deployment(t.admin), await deployment(t.admin), await deployment(t.admin)];
    for (const id of ids) await subscribe(t.admin, id, { planCode: "studio" });
    const results = await Promise.all(
      Array.from({ length: 3 }, () => advanced(t.admin, t.tenantId, "2027-04-01T00:00:00.000Z")),
    );
    expect(results.reduce((sum, r) => sum + r.invoicesIssued, 0)).toBe(9);
    expect(results.reduce((sum, r) => sum + r.instantsVisited, 0)).toBe(3);
    for (const id of ids) expect(await invoices(t.admin, id)).toHaveLength(3);
  });

  it("is idempotent with an Idempotency-Key, and reachable over tRPC with the same answers", async () => {
    const t = await sandbox("2027-01-01T00:00:00.000Z");
    const id = await deployment(t.admin);
    await subscribe(t.admin, id, { planCode: "studio" });
    const key = { "idempotency-key": `advance-${n}` };
    const first = await advance(t.admin, t.tenantId, "2027-02-01T00:00:00.000Z", key);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ invoicesIssued: 1 });
    const again = await advance(t.admin, t.tenantId, "2027-02-01T00:00:00.000Z", key);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const reused = await advance(t.admin, t.tenantId, "2027-03-01T00:00:00.000Z", key);
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await invoices(t.admin, id)).toHaveLength(1);

    const viaTrpc = await h.request("POST", "/trpc/tenants.advanceClock", {
      token: t.admin,
      body: { id: t.tenantId, to: "2027-03-01T00:00:00.000Z" },
    });
    expect(viaTrpc.status).toBe(200);
    expect(viaTrpc.body.result.data).toMatchObject({ from: "2027-02-01T00:00:00.000Z", invoicesIssued: 1 });
    const clock = await h.request(
      "GET",
      `/trpc/tenants.clock?input=${encodeURIComponent(JSON.stringify({ id: t.tenantId }))}`,
      {
        token: t.admin,
      },
    );
    expect(clock.body.result.data).toEqual((await clockOf(t.admin, t.tenantId)).body);
    expect(clock.body.result.data).toEqual({ tenantId: t.tenantId, frozenAt: "2027-03-01T00:00:00.000Z" });
    const backwards = await h.request("POST", "/trpc/tenants.advanceClock", {
      token: t.admin,
      body: { id: t.tenantId, to: "2027-02-01T00:00:00.000Z" },
    });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.data.code).toBe("CLOCK_BACKWARDS");
  });

  it("bad input gets its error and changes nothing", async () => {
    const g = await sandbox("2027-03-31T12:00:00.000Z");
    const other = await sandbox("2027-03-31T12:00:00.000Z");
    const ordinary = await h.tenant();
    const id = await deployment(g.admin);
    await subscribe(g.admin, id, { planCode: "studio" });
    const before = (await clockOf(g.admin, g.tenantId)).body;
    expect(before).toEqual({ tenantId: g.tenantId, frozenAt: "2027-03-31T12:00:00.000Z" });

    const refusals: [string, Awaited<ReturnType<typeof advance>>, number, string][] = [
      ["backwards", await advance(g.admin, g.tenantId, "2027-03-31T11:59:59.999Z"), 422, "CLOCK_BACKWARDS"],
      [
        "another tenant's clock",
        await advance(other.admin, g.tenantId, "2027-05-01T00:00:00.000Z"),
        404,
        "NOT_FOUND",
      ],
      ["a viewer", await advance(g.viewer, g.tenantId, "2027-05-01T00:00:00.000Z"), 403, "FORBIDDEN"],
      [
        "not a sandbox",
        await advance(h.adminToken, ordinary.tenantId, "2027-05-01T00:00:00.000Z"),
        422,
        "NOT_A_SANDBOX",
      ],
      [
        "not a sandbox, own admin",
        await advance(ordinary.admin, ordinary.tenantId, "2099-01-01T00:00:00.000Z"),
        422,
        "NOT_A_SANDBOX",
      ],
      [
        "unknown tenant",
        await advance(h.adminToken, "01a23179-6fb5-7002-b716-61347568bb56", "2027-05-01T00:00:00.000Z"),
        404,
        "NOT_FOUND",
      ],
      [
        "over 24 months",
        await advance(g.admin, g.tenantId, "2029-03-31T12:00:00.001Z"),
        400,
        "VALIDATION_FAILED",
      ],
    ];
    for (const to of [
      "2027-13-01T00:00:00Z",
      "2027-05-01",
      "2027-05-01T00:00:00",
      "next month",
      1_800_000_000_000,
      null,
    ]) {
      refusals.push([
        `to ${JSON.stringify(to)}`,
        await advance(g.admin, g.tenantId, to as string),
        400,
        "VALIDATION_FAILED",
      ]);
    }
    const missing = await h.request("POST", `/api/v1/tenants/${g.tenantId}/clock/advance`, {
      token: g.admin,
      body: {},
    });
    refusals.push(["no to", missing, 400, "VALIDATION_FAILED"]);
    for (const [what, r, status, code] of refusals) {
      expect([what, r.status, r.body.error?.code]).toEqual([what, status, code]);
    }
    expect(refusals.at(-2)![1].body.error.details.fields).toHaveProperty("to");
    expect((await clockOf(other.admin, g.tenantId)).status).toBe(404);
    expect((await clockOf(h.adminToken, ordinary.tenantId)).body.error.code).toBe("NOT_A_SANDBOX");

    expect((await clockOf(g.admin, g.tenantId)).body).toEqual(before);
    expect(await invoices(g.admin, id)).toEqual([]);
    // A good advance afterwards runs exactly what was due.
    expect(await advanced(g.admin, g.tenantId, "2027-04-01T00:00:00.000Z")).toMatchObject({
      invoicesIssued: 1,
    });
  });

  it("an ordinary tenant's data is untouched by every advance above", async () => {
    const after = await ordinaryData();
    expect(after).toEqual(ordinary.before);
    expect(after.document.deployment.state).toBe("trial");
    expect(after.invoices.items).toEqual([]);
  });
});
