// `pnpm --filter @arcadia/bench bench:webhooks`: only the webhook benchmark; replaces the Webhooks
// section of BENCHMARKS.md (the full `pnpm bench` writes the whole file).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchDatabaseUrl } from "./machine.ts";
import { webhookBenchmark, webhookSection } from "./webhooks.ts";

const adminUrl = benchDatabaseUrl;
const out = fileURLToPath(new URL("../../../BENCHMARKS.md", import.meta.url));
const result = await webhookBenchmark(adminUrl);
const section = webhookSection(result);
console.log(section);
const current = readFileSync(out, "utf8");
const start = current.indexOf("## Webhooks");
const next = start < 0 ? -1 : current.indexOf("\n## ", start + 1);
const updated =
  start < 0
    ? `${current.trimEnd()}\n\n${section}`
    : `${current.slice(0, start)}${section}${next < 0 ? "" : current.slice(next + 1)}`;
writeFileSync(out, updated);
process.exit(0);
