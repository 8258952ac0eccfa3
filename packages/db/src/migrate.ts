import {
  Addon,
  createAddon,
  createPlan,
  DEFAULT_CATALOG,
  Plan,
  publishPlanVersion,
  unwrap,
} from "@arcadia/domain";
import type { Transaction } from "@mikro-orm/core";
import { type Orm, poolingOf } from "./orm.ts";
import { DEPLOYMENT_DOCUMENT_JSON_FUNCTION } from "./presenters/json-reads.ts";
import { newId } from "./shared/ids.ts";
import { withConnection } from "./shared/sql.ts";

// An arbitrary constant naming the advisory lock that serialises schema changes and seeding
// across processes starting at once.
const MIGRATION_LOCK = 4_206_170_001;

/**
 * Applies pending migrations, (re)creates the functions generated from the code's read queries
 * (`presenters/json-reads.ts`: named after their bodies, so creating them is idempotent), then loads the default catalog into an empty catalog, under an
 * advisory lock: safe to race, a racing process waits, then finds the work done.
 *
 * On direct connections the lock is a session-level one held on a connection of its own while the
 * migrator works on others (the embedded database serves one transaction at a time, so the
 * migrator cannot run inside a transaction another connection waits on). Behind a transaction-mode
 * pooler a session-level lock would be released, if at all, on whichever server connection the
 * pooler lends to the unlock, and stay held by an idle pooled connection for good; there
 * everything runs in one transaction under a transaction-level lock, which ends with it (the
 * migrations table is checked, and made if missing, on another connection while the lock is held).
 */
export async function migrateAndSeed(
  orm: Orm,
  now: Date = new Date(),
): Promise<{ applied: string[]; seeded: boolean }> {
  if (poolingOf(orm) === "transaction") {
    return orm.em.getConnection().transactional(async (trx) => {
      await orm.em.getConnection().execute("select pg_advisory_xact_lock(?)", [MIGRATION_LOCK], "all", trx);
      const applied = await orm.migrator.up({ transaction: trx });
      await orm.em.getConnection().execute(DEPLOYMENT_DOCUMENT_JSON_FUNCTION.create, [], "run", trx);
      const seeded = await seedDefaultCatalog(orm, now, trx);
      return { applied: applied.map((m) => m.name), seeded };
    });
  }
  return withConnection(orm.em.fork(), async (sql) => {
    await sql("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      const applied = await orm.migrator.up();
      await sql(DEPLOYMENT_DOCUMENT_JSON_FUNCTION.create);
      const seeded = await seedDefaultCatalog(orm, now);
      return { applied: applied.map((m) => m.name), seeded };
    } finally {
      await sql("select pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  });
}

/** Loads SPEC §3.3's default catalog, once: only when no plan and no add-on exists yet. */
export async function seedDefaultCatalog(orm: Orm, now: Date, ctx?: Transaction): Promise<boolean> {
  return orm.em.fork().transactional(
    async (em) => {
      const existing = (await em.count(Plan, {})) + (await em.count(Addon, {}));
      if (existing > 0) return false;
      for (const entry of DEFAULT_CATALOG.plans) {
        const plan = unwrap(createPlan({ id: newId(), code: entry.code, name: entry.name, now }));
        em.persist(plan);
        em.persist(unwrap(publishPlanVersion(plan, 0, { ...entry.version, id: newId(), now })));
      }
      for (const entry of DEFAULT_CATALOG.addons) {
        em.persist(unwrap(createAddon({ ...entry, id: newId(), now })));
      }
      return true;
    },
    ctx ? { ctx } : {},
  );
}
