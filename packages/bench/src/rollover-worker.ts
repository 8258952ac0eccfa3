// One worker process of the multi-worker rollover benchmark (`topology.ts`):
//   tsx src/rollover-worker.ts <url> <none|transaction> <now ISO>
// Connects, prints {"ready":true}, waits for a line on stdin, runs one rollover pass, prints its
// invoices and exits: the parent starts every worker's pass at the same moment.
import { once } from "node:events";
import { connect, runRolloverPass } from "@arcadia/db";

const [url, pooling, now] = process.argv.slice(2);
const orm = await connect({
  url: url!,
  pooling: pooling === "transaction" ? "transaction" : "none",
  poolSize: 4,
});
await orm.em.getConnection().execute("select 1");
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await once(process.stdin, "data");
const summary = await runRolloverPass(orm, { now: new Date(now!) });
process.stdout.write(`${JSON.stringify({ invoices: summary.invoicesIssued })}\n`);
await orm.close(true);
process.exit(0);
