// Our API on a loopback port over the given URL, for the load benchmarks: prints {"port"} when
// ready. `api-server.ts <url> transaction` runs it as behind PgBouncer (DATABASE_POOLING=transaction).

import { listen, newApp } from "@arcadia/api";
import { connect } from "@arcadia/db";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { createLogger } from "@arcadia/runtime";

const pooling = process.argv[3] === "transaction" ? "transaction" : "none";
const orm = await connect({ url: process.argv[2]!, pooling, poolSize: 10 });
// As in production (NODE_ENV=production): responses are not checked against their schemas.
const app = newApp({
  orm,
  now: () => new Date(),
  regions: DEFAULT_REGIONS,
  logger: createLogger("silent"),
  checkResponses: false,
});
const { server, port } = await listen(app, 0, "127.0.0.1");
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on("SIGTERM", () => server.close(() => orm.close().then(() => process.exit(0))));
