// `pnpm db:migrate`: applies the committed migrations and seeds an empty catalog, on
// DATABASE_URL (DIRECT_DATABASE_URL when DATABASE_POOLING=transaction gives one: past the pooler)
// or on the embedded database in DATA_DIR.
import { dataDirFromEnv, openDatabase } from "../database.ts";

const pooled = process.env.DATABASE_POOLING === "transaction";
const direct = pooled ? process.env.DIRECT_DATABASE_URL : undefined;
const database = await openDatabase({
  url: direct || process.env.DATABASE_URL,
  // Through the pooler (no direct URL): the transaction-level migration lock.
  pooling: pooled && !direct ? "transaction" : "none",
  dataDir: dataDirFromEnv(),
  migrate: false,
});
try {
  const { migrateAndSeed } = await import("../migrate.ts");
  const result = await migrateAndSeed(database.orm);
  console.log(
    JSON.stringify({
      msg: "migrations applied",
      database: database.kind,
      applied: result.applied,
      catalogSeeded: result.seeded,
    }),
  );
} finally {
  await database.close();
}
