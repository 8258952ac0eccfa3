// `pnpm db:migrate`: applies the committed migrations and seeds an empty catalog, on
// DATABASE_URL or on the embedded database in DATA_DIR.
import { dataDirFromEnv, openDatabase } from "../database.ts";

const database = await openDatabase({
  url: process.env.DATABASE_URL,
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
