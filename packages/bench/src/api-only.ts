// `pnpm --filter @arcadia/bench run bench:api [seconds]`: only the API load benchmark, printed.
import { apiBenchmark } from "./api-load.ts";

const url =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";
const result = await apiBenchmark(url, Number(process.argv[2] ?? 5));
const { loads, ...groups } = result;
for (const [group, runs] of Object.entries(groups)) {
  for (const [name, run] of Object.entries(runs)) console.log(group, name, JSON.stringify(run));
  console.log(group, "load average", loads[group as keyof typeof loads]);
}
