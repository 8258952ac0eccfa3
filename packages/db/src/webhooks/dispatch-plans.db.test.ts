import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../orm.ts";
import {
  createTestDatabase,
  operator,
  recordTenantEvents,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testContext,
} from "../testing/index.ts";
import {
  CLAIM_DUE_DELIVERIES,
  claimDueDeliveries,
  FAN_OUT,
  fanOutEvents,
  RECORD_ATTEMPTS,
  RECOVER_LEASES,
  recordAttemptOutcomes,
  recordedAttemptsParameter,
} from "./dispatch.ts";
import { createWebhookEndpoint } from "./endpoints.ts";

// How the dispatcher's three queries reach their rows, whatever the table's size or statistics:
// each is prepared once per connection, so after five runs PostgreSQL may keep one generic plan
// for the connection's life, made from whatever the statistics said then. These read the generic
// plans (and the server's table statistics), so they run only with TEST_DATABASE_URL.
const enabled = Boolean(process.env.TEST_DATABASE_URL);

interface PlanNode {
  readonly "Node Type": string;
  readonly "Relation Name"?: string;
  readonly "Index Name"?: string;
  readonly "Index Cond"?: string;
  readonly Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * How a plan reads `relation` (its writes aside): the indexes of each scan, `["(sequential)"]`
 * for a scan of the whole table.
 */
function readsOf(plan: PlanNode[], relation: string): string[][] {
  return plan
    .filter((n) => n["Relation Name"] === relation && n["Node Type"] !== "ModifyTable")
    .map((n) =>
      n["Node Type"] === "Seq Scan"
        ? ["(sequential)"]
        : nodes(n)
            .map((inner) => inner["Index Name"])
            .filter((name): name is string => name !== undefined),
    );
}

describe.skipIf(!enabled)("the webhook dispatcher's plans on PostgreSQL", () => {
  let db: TestDatabase;
  let client: pg.Client;
  const clock = new TestClock(new Date("2026-11-20T10:00:00Z"));
  const backlog = 3000;
  beforeAll(async () => {
    db = await createTestDatabase("postgres");
    client = new pg.Client({ connectionString: db.directUrl! });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.close();
  });

  /**
   * The generic plan of `text` for `params` (the plan a prepared statement may keep), or the custom
   * one made for these very values (as its first five runs on a connection are).
   */
  async function genericPlan(
    name: string,
    text: string,
    params: readonly string[],
    mode: "generic" | "custom" = "generic",
  ): Promise<PlanNode[]> {
    await client.query(`set plan_cache_mode = force_${mode}_plan`);
    await client.query(`prepare ${name} as ${text}`);
    const { rows } = await client.query(`explain (format json) execute ${name}(${params.join(", ")})`);
    await client.query(`deallocate ${name}`);
    return nodes((rows[0]["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan);
  }

  const stats = async () =>
    (
      await client.query<{ updates: number; hot: number }>(
        `select n_tup_upd::int as updates, n_tup_hot_upd::int as hot
           from pg_stat_user_tables where relname = 'webhook_deliveries'`,
      )
    ).rows[0]!;

  it("read a backlog from the fan-out's cursor and outcomes by primary key, and claim in place", async () => {
    const t = await tenantFixture(db.orm, clock);
    const { endpoint } = await createWebhookEndpoint(
      testContext(db.orm, clock),
      operator,
      { url: "http://127.0.0.1:9/hooks" },
      { allowPrivateNetworks: true },
    );
    // Statistics taken while the tables are nearly empty, then not again (as between two runs of
    // autovacuum): the plans must not depend on them.
    await client.query("alter table webhook_deliveries set (autovacuum_enabled = false)");
    await client.query("alter table events set (autovacuum_enabled = false)");
    // Room on each page for a new version of every row: whether an update is in place then
    // depends only on the columns it changes. (Deliveries' ids follow their events' times, so
    // those claimed together fill pages of their own; on full pages few of them would fit.)
    await client.query("alter table webhook_deliveries set (fillfactor = 40)");
    await client.query("analyze webhook_deliveries; analyze events");
    await recordTenantEvents(db.orm, t.tenantId, backlog, clock.now());
    while ((await fanOutEvents(db.orm, clock.now())) > 0);

    // The fan-out's page starts at its cursor in the feed index: it never reads the feed from its
    // start (which made each page cost the whole outbox).
    // (Leasing what fits: the deliveries and their events come from the page, not the tables.)
    const fanOut = await genericPlan("fan_out", FAN_OUT.text, [
      "1000",
      "now()",
      "200",
      "'{}'",
      "'{}'",
      "now() + interval '30 seconds'",
      "200",
      "'{}'",
    ]);
    // (And the backlog's estimate: the last position, from the end of the primary key.)
    expect(readsOf(fanOut, "events")).toEqual([["events_feed_index"], ["events_pkey"]]);
    expect(readsOf(fanOut, "webhook_deliveries")).toEqual([]);
    const page = fanOut.find((n) => n["Relation Name"] === "events")!;
    expect(page["Index Cond"]).toMatch(/^\(\(ROW\(xid, "position"\) > ROW\(/);

    // Recording outcomes finds each delivery by its key: never by scanning the pending ones (all
    // of the backlog).
    const record = await genericPlan("record", RECORD_ATTEMPTS.text, ["'[]'", "now()", "'{}'"]);
    expect(readsOf(record, "webhook_deliveries")).toEqual([["webhook_deliveries_pkey"]]);

    // A page's recovery (planned as it runs: without sequential scans) reads what was delivered
    // since it was leased along each endpoint's log index, never the whole log, and its expired
    // leases along theirs.
    await client.query("set enable_seqscan = off");
    const recover = await genericPlan("recover", RECOVER_LEASES, ["now()", "10"], "custom");
    await client.query("reset enable_seqscan");
    expect(readsOf(recover, "webhook_attempts")).toEqual([["webhook_attempts_endpoint_index"]]);
    expect(readsOf(recover, "webhook_leases").flat()).not.toContain("(sequential)");

    // A claim changes no indexed column: every claim is an update in place (HOT), which adds no
    // index entry. (Claimed over a connection of its own: its statistics reach the view when it
    // closes.)
    const before = await stats();
    const own = await connect({ url: db.url });
    const claimed = await claimDueDeliveries(own, { now: clock.now(), limit: 200, perEndpoint: 200 });
    await own.close(true);
    expect(claimed).toHaveLength(200);
    expect(new Set(claimed.map((c) => c.endpointId))).toEqual(new Set([endpoint.id]));
    let after = await stats();
    for (let waited = 0; after.updates < before.updates + 200 && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query("select pg_stat_clear_snapshot()");
      after = await stats();
    }
    expect([after.updates - before.updates, after.hot - before.hot]).toEqual([200, 200]);

    // And the claim reaches the due deliveries through the due index (the lateral scan), then
    // locks (the re-check) and updates each by its key (the claim, or for one whose event is gone
    // the failure): four reads, none of them a scan of the table.
    const claim = await genericPlan("claim", CLAIM_DUE_DELIVERIES.text, [
      "now()",
      "64",
      "8",
      "'{}'",
      "now()",
      "'{}'",
    ]);
    expect(
      readsOf(claim, "webhook_deliveries")
        .map((indexes) => indexes.join(" "))
        .sort(),
    ).toEqual([
      "webhook_deliveries_due_index",
      "webhook_deliveries_pkey",
      "webhook_deliveries_pkey",
      "webhook_deliveries_pkey",
    ]);
    // Its events by their keys (whether each is still there, then the bodies): the outbox only grows.
    expect(readsOf(claim, "events")).toEqual([["events_id_unique"], ["events_id_unique"]]);

    // The plans made for the values at hand (a connection's first five runs) on a table whose
    // statistics say it is empty: no scan of the deliveries or of the outbox either.
    const claimNow = await genericPlan(
      "claim_custom",
      CLAIM_DUE_DELIVERIES.text,
      ["now()", "200", "200", "'{}'", "now()", "'{}'"],
      "custom",
    );
    expect(readsOf(claimNow, "webhook_deliveries").flat()).not.toContain("(sequential)");
    expect(readsOf(claimNow, "events")).toEqual([["events_id_unique"], ["events_id_unique"]]);
    const answered = claimed.map((delivery) => ({
      delivery,
      attemptedAt: clock.now(),
      durationMs: 1,
      responseStatus: 204,
      error: null,
    }));
    const batch = recordedAttemptsParameter(answered, clock.now());
    const recordNow = await genericPlan(
      "record_custom",
      RECORD_ATTEMPTS.text,
      [`'${batch}'`, "now()", "'{}'"],
      "custom",
    );
    expect(readsOf(recordNow, "webhook_deliveries")).toEqual([["webhook_deliveries_pkey"]]);

    // The claimed attempts recorded: delivered, the lease given back.
    await recordAttemptOutcomes(db.orm, answered, clock.now());
    const { rows } = await client.query<{ status: string; n: number; leased: number }>(
      `select status, count(*)::int as n, count(leased_until)::int as leased
         from webhook_deliveries where endpoint_id = $1 group by status order by status`,
      [endpoint.id],
    );
    expect(rows).toEqual([
      { status: "pending", n: backlog - 200, leased: 0 },
      { status: "succeeded", n: 200, leased: 0 },
    ]);
  });
});
