// A private transaction-mode PgBouncer in front of TEST_DATABASE_URL's server, for `.ci/run`'s
// topology suite: prints its URL on one line, runs until SIGTERM/SIGINT, then stops it.
import { startPgBouncer } from "../testing/pgbouncer.ts";

const upstream = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const bouncer = await startPgBouncer(upstream);
process.stdout.write(`${bouncer.url}\n`);
const stop = async () => {
  await bouncer.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setInterval(() => {}, 1 << 30);
