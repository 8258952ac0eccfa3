// `pnpm --filter @arcadia/bench run bench:topology [seconds]`: only the production-topology
// benchmark; rewrites the "## Production topology" section of BENCHMARKS.md and nothing else.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchDatabaseUrl, busyNote, gitCommit } from "./machine.ts";
import { topologyBenchmark, topologySection } from "./topology.ts";

const url = benchDatabaseUrl;
const seconds = Number(process.argv[2] ?? process.env.BENCH_API_SECONDS ?? 8);
const out = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url));
const busy = busyNote();
const result = await topologyBenchmark(url, seconds);
const section = topologySection(result, seconds, gitCommit(), busy.end());
console.log(section);
const current = readFileSync(out, "utf8");
const start = current.indexOf("## Production topology");
const next = start < 0 ? -1 : current.indexOf("\n## ", start + 1);
const updated =
  start < 0
    ? `${current.trimEnd()}\n\n${section}`
    : `${current.slice(0, start)}${section}${next < 0 ? "" : current.slice(next)}`;
writeFileSync(out, updated);
console.log(`updated ${out}`);
process.exit(0);
