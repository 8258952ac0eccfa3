import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAddons, listPlans } from "./catalog/catalog.ts";
import { migrateAndSeed } from "./migrate.ts";
import { migrationsList } from "./migrations/index.ts";
import { connect, poolingOf } from "./orm.ts";
import {
  createTestDatabase,
  TestClock,
  type TestDatabase,
  testBackends,
  testContext,
} from "./testing/index.ts";

describe.each(testBackends({ pooled: true }))("migrations on %s", (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(backend, { migrate: false });
  });
  afterAll(() => db?.close());

  it("apply to an empty database and leave no difference between the mapping and the schema", async () => {
    const first = await migrateAndSeed(db.orm);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.seeded).toBe(true);
    const diff = await db.orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    expect(diff.trim()).toBe("");
    expect(await db.orm.migrator.checkMigrationNeeded()).toBe(false);
  });

  it("are idempotent and load the default catalog only once", async () => {
    const again = await migrateAndSeed(db.orm);
    expect(again).toEqual({ applied: [], seeded: false });
    const ctx = testContext(db.orm, new TestClock(new Date()));
    const plans = await listPlans(ctx);
    expect(
      plans.map((p) => [
        p.plan.code,
        p.versions.map((v) => [v.version, v.priceCents, v.currency, v.trialDays, v.includes]),
      ]),
    ).toEqual([
      ["hobby", [[1, 0, "AUD", 14, { storage: "1", compute: "0.5" }]]],
      ["scale", [[1, 19900, "AUD", 14, { storage: "100", compute: "4" }]]],
      ["studio", [[1, 4900, "AUD", 14, { storage: "10", compute: "1" }]]],
    ]);
    const addons = await listAddons(ctx);
    expect(addons.map((a) => [a.code, a.resourceKind, a.qty, a.priceCents, a.currency, a.active])).toEqual([
      ["compute_2vcpu", "compute", "2", 2000, "AUD", true],
      ["llm_tokens_1m", "llm_tokens", "1000000", 1500, "AUD", true],
      ["storage_50gb", "storage", "50", 750, "AUD", true],
    ]);
  });

  it("can each be reverted, newest first, down to an empty schema, and applied again", async () => {
    const fresh = await createTestDatabase(backend, { migrate: false });
    try {
      await migrateAndSeed(fresh.orm);
      const reverted = await fresh.orm.migrator.down({ to: 0 });
      expect(reverted.map((m) => m.name)).toEqual(migrationsList.map((m) => m.name).reverse());
      const left = await fresh.orm.em.getConnection().execute<{ name: string }[]>(
        `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = current_schema() and c.relkind in ('r', 'v', 'm', 'S')
              and c.relname not like 'mikro_orm_migrations%'
           union all
           -- the document's generated function is migrateAndSeed's, not a migration's
           select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = current_schema() and p.proname not like 'arcadia_document_json_%'`,
      );
      expect(left).toEqual([]);
      const again = await migrateAndSeed(fresh.orm);
      expect(again.applied).toEqual(migrationsList.map((m) => m.name));
      const diff = await fresh.orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
      expect(diff.trim()).toBe("");
    } finally {
      await fresh.close();
    }
  });

  it("do not reseed a catalog an operator has emptied of plans but not of add-ons", async () => {
    await db.orm.em.getConnection().execute("delete from plan_versions; delete from plans;");
    expect((await migrateAndSeed(db.orm)).seeded).toBe(false);
  });

  // PGlite is a single backend owned by one process, so only a real server can be raced.
  it.runIf(backend !== "embedded")("can be raced by several processes starting at once", async () => {
    const fresh = await createTestDatabase(backend, { migrate: false });
    const second = await connect({ url: fresh.url, pooling: poolingOf(fresh.orm) });
    try {
      const results = await Promise.all([migrateAndSeed(fresh.orm), migrateAndSeed(second)]);
      expect(results.filter((r) => r.seeded)).toHaveLength(1);
      // Each migration applied exactly once, by one of the two.
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrationsList.map((m) => m.name).sort());
      const rows = await fresh.orm.em.getConnection().execute("select count(*)::int as count from plans");
      expect(rows[0]?.count).toBe(3);
    } finally {
      await second.close(true);
      await fresh.close();
    }
  });
});
