import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "./database.ts";
import { createDeployment, transitionDeployment } from "./deployments/deployments.ts";
import { migrateAndSeed } from "./migrate.ts";
import { migrationsList } from "./migrations/index.ts";
import { connect, poolingOf } from "./orm.ts";
import { withConnection } from "./shared/sql.ts";
import { wakeUps } from "./shared/wake-ups.ts";
import {
  createTestDatabase,
  deploymentDocument,
  pooledTestsEnabled,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testContext,
} from "./testing/index.ts";

// The production topology: PostgreSQL behind a transaction-mode PgBouncer (Debian's 1.18, which
// does not track prepared queries). `.ci/run` starts a private one and sets
// TEST_POOLED_DATABASE_URL; the API and worker suites that matter run through it as their third
// backend (`testBackends({ pooled: true })`). Without it (a dev machine without pgbouncer) this
// suite and that backend are skipped, and the skipped test below says so.
const enabled = pooledTestsEnabled();

if (!enabled) {
  console.warn(
    "skipped: the PgBouncer topology suite and backend (set TEST_POOLED_DATABASE_URL to a transaction-mode PgBouncer in front of TEST_DATABASE_URL, as .ci/run does)",
  );
}

describe.skipIf(!enabled)("through a transaction-mode PgBouncer (TEST_POOLED_DATABASE_URL)", () => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-03-01T00:00:00Z"));
  beforeAll(async () => {
    db = await createTestDatabase("pooled");
  });
  afterAll(() => db?.close());

  const newDeployment = (tenant: TenantFixture) =>
    createDeployment(testContext(db.orm, clock), tenant.admin, {
      slug: `d-${Math.random().toString(36).slice(2, 10)}`,
      displayName: "topology",
      region: "au-syd",
    });
  const ourNamedQueries = (sql: Parameters<Parameters<typeof withConnection>[1]>[0]) =>
    sql<{ n: number }>("select count(*)::int as n from pg_prepared_statements where name like 'arcadia_%'");

  it("sends the hot paths' queries unnamed, and the direct pool still prepares them by name", async () => {
    expect(poolingOf(db.orm)).toBe("transaction");
    const tenant = await tenantFixture(db.orm, clock);
    const deployment = await newDeployment(tenant);
    // Many requests at once from two pools, as two API processes would: each transaction lands on
    // whichever server connection the pooler lends. Named queries fail here about a third of the time.
    const second = await connect({ url: db.url, pooling: "transaction", poolSize: 5 });
    try {
      const reads = Array.from({ length: 60 }, (_, i) =>
        deploymentDocument(
          testContext(i % 2 ? second : db.orm, clock),
          tenant.viewer,
          deployment.deployment.id,
        ),
      );
      expect((await Promise.all(reads)).every((doc) => doc.deployment.id === deployment.deployment.id)).toBe(
        true,
      );
    } finally {
      await second.close(true);
    }
    expect((await withConnection(db.orm.em.fork(), ourNamedQueries))[0]?.n).toBe(0);

    const direct = await connect({ url: db.directUrl!, poolSize: 1 });
    try {
      await deploymentDocument(testContext(direct, clock), tenant.viewer, deployment.deployment.id);
      expect((await withConnection(direct.em.fork(), ourNamedQueries))[0]?.n).toBeGreaterThan(0);
    } finally {
      await direct.close(true);
    }
  });

  it("takes a lifecycle through the pooler", async () => {
    const tenant = await tenantFixture(db.orm, clock);
    const deployment = await newDeployment(tenant);
    for (const to of ["paused", "active", "paused", "active"] as const) {
      await transitionDeployment(testContext(db.orm, clock), tenant.admin, deployment.deployment.id, { to });
    }
    const doc = await deploymentDocument(testContext(db.orm, clock), tenant.viewer, deployment.deployment.id);
    expect(doc.events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it("migrates when several processes start at once through the pooler, and leaves no lock behind", async () => {
    const fresh = await createTestDatabase("pooled", { migrate: false });
    const others = await Promise.all(
      [1, 2].map(() => connect({ url: fresh.url, pooling: "transaction", poolSize: 3 })),
    );
    try {
      const results = await Promise.all([fresh.orm, ...others].map((orm) => migrateAndSeed(orm)));
      expect(results.filter((r) => r.seeded)).toHaveLength(1);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrationsList.map((m) => m.name).sort());
      // A later start does not wait on a lock an earlier one left on a pooled server connection.
      expect(await migrateAndSeed(others[0]!)).toEqual({ applied: [], seeded: false });
      const locks = await fresh.orm.em.getConnection().execute(
        `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and objid::text::bigint = 4206170001
              and database = (select oid from pg_database where datname = current_database())`,
      );
      expect(locks[0]?.n).toBe(0);
    } finally {
      await Promise.all(others.map((orm) => orm.close(true)));
      await fresh.close();
    }
  });

  it("opens with DATABASE_POOLING=transaction: migrations and LISTEN over DIRECT_DATABASE_URL when given, else a poll", async () => {
    const fresh = await createTestDatabase("pooled", { migrate: false });
    try {
      const withDirect = await openDatabase({
        url: fresh.url,
        pooling: "transaction",
        directUrl: fresh.directUrl!,
      });
      const withoutDirect = await openDatabase({ url: fresh.url, pooling: "transaction" });
      try {
        expect(withDirect.sessionUrl).toBe(fresh.directUrl);
        expect(withoutDirect.sessionUrl).toBeNull();
        expect(await withDirect.orm.migrator.checkMigrationNeeded()).toBe(false);

        let heard = 0;
        const listening = await wakeUps(withDirect, "arcadia_test_wake", () => {
          heard += 1;
        });
        const polling = await wakeUps(withoutDirect, "arcadia_test_wake", () => {}, { pollMs: 50 });
        try {
          expect([listening.mode, polling.mode]).toEqual(["listen", "poll"]);
          const before = heard;
          // Sent through the pooler, inside a transaction, as a use case would.
          await withoutDirect.orm.em
            .fork()
            .transactional((em) =>
              em
                .getConnection()
                .execute("select pg_notify('arcadia_test_wake', '')", [], "all", em.getTransactionContext()),
            );
          const deadline = Date.now() + 5000;
          while (heard === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          expect(heard).toBeGreaterThan(before);
        } finally {
          await listening.close();
          await polling.close();
        }
      } finally {
        await withDirect.close();
        await withoutDirect.close();
      }
    } finally {
      await fresh.close();
    }
  });
});
