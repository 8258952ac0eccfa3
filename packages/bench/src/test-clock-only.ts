// `pnpm --filter @arcadia/bench run bench:clock`: only the test-clock benchmark; rewrites the
// "## Test clocks" section of BENCHMARKS.md and nothing else.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchDatabaseUrl, busyNote, gitCommit } from "./machine.ts";
import { testClockBenchmark, testClockSection } from "./test-clock.ts";

const url = benchDatabaseUrl;
const out = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url));
const busy = busyNote();
const section = testClockSection(testClockBenchmark(url), gitCommit(), busy.end());
console.log(section);
const current = readFileSync(out, "utf8");
const start = current.indexOf("## Test clocks");
const next = start < 0 ? -1 : current.indexOf("\n## ", start + 1);
writeFileSync(
  out,
  start < 0
    ? `${current.trimEnd()}\n\n${section}`
    : `${current.slice(0, start)}${section}${next < 0 ? "" : current.slice(next + 1)}`,
);
console.log(`updated ${out}`);
process.exit(0);
