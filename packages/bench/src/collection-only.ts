// `pnpm --filter @arcadia/bench run bench:collection`: only the collection benchmark; rewrites the
// "## Collection" section of BENCHMARKS.md and nothing else.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { collectionBenchmark, collectionSection } from "./collection.ts";
import { benchDatabaseUrl, busyNote, gitCommit } from "./machine.ts";

const url = benchDatabaseUrl;
const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const out = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url));
const busy = busyNote();
const section = collectionSection(collectionBenchmark(url, sizes), gitCommit(), busy.end());
console.log(section);
const current = readFileSync(out, "utf8");
const start = current.indexOf("## Collection");
const next = start < 0 ? -1 : current.indexOf("\n## ", start + 1);
const updated =
  start < 0
    ? `${current.trimEnd()}\n\n${section}`
    : `${current.slice(0, start)}${section}${next < 0 ? "" : current.slice(next)}`;
writeFileSync(out, updated);
console.log(`updated ${out}`);
process.exit(0);
