// The collection benchmark: a pass over N overdue invoices (each deployment moves active → past_due
// as `system`) next to a set-based SQL floor doing the same state changes, each in a process of its
// own with the old space capped, at every size.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));
/** The same cap as the rollover: a pass whose memory grew with the number of invoices would fail at 100k. */
const HEAP_CAP_MB = 96;

export interface CollectionRun {
  mode: "orm" | "sql";
  invoices: number;
  transitions: number;
  pastDue: number;
  events: number;
  seconds: number;
  perSecond: number;
  peakRssMb: number;
  peakHeapMb: number;
}

function runOne(mode: "orm" | "sql", count: number, adminUrl: string): CollectionRun {
  const result = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      `--max-old-space-size=${HEAP_CAP_MB}`,
      "--import",
      "tsx",
      "src/collection-run.ts",
      mode,
      String(count),
      adminUrl,
    ],
    {
      cwd: here,
      encoding: "utf8",
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (result.status !== 0) throw new Error(`collection ${mode} ${count} failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as CollectionRun;
  console.log(
    `collection ${mode.padEnd(4)} ${String(count).padStart(7)} overdue invoices: ${parsed.perSecond}/s, ${parsed.seconds}s, peak heap ${parsed.peakHeapMb} MiB`,
  );
  return parsed;
}

export function collectionBenchmark(adminUrl: string, sizes: readonly number[]) {
  return sizes.map((size) => ({
    size,
    orm: runOne("orm", size, adminUrl),
    sql: runOne("sql", size, adminUrl),
  }));
}

/** The "## Collection" section of BENCHMARKS.md. */
export function collectionSection(
  results: ReturnType<typeof collectionBenchmark>,
  commit: string,
  busy: string,
): string {
  const rows = results
    .map(
      ({ size, orm, sql }) =>
        `| ${size.toLocaleString("en")} | ${orm.perSecond.toLocaleString("en")} /s (${orm.seconds} s) | ${sql.perSecond.toLocaleString("en")} /s (${sql.seconds} s) | ${Math.round((orm.perSecond * 100) / sql.perSecond)}% | ${orm.peakHeapMb} MiB / ${orm.peakRssMb} MiB | ${orm.transitions.toLocaleString("en")} / ${orm.events.toLocaleString("en")} |`,
    )
    .join("\n");
  return `## Collection

A collection pass over N overdue invoices, one per deployment, no payment method: every deployment
moves \`active → past_due\` as \`system\` (state, sequence, an event whose reason names the invoice),
its invoice is marked announced overdue, the outbox gets \`deployment.transitioned\` and
\`invoice.overdue\` (the deployment, the invoice with its lines), and its collection appointment
moves to the suspension step. **Pass**: \`runCollectionPass\` (SKIP
LOCKED batches of 1,000, two in flight, the domain's \`dueCollectionWork\` per deployment, set-wise
writes). **Floor**: the same changes as one set-based SQL query with the rule hard-coded (no
per-row logic, one transaction). Each run in a process of its own with the old space capped at
${HEAP_CAP_MB} MiB. Produced by \`pnpm bench\` (or \`pnpm --filter @arcadia/bench run bench:collection\`,
which rewrites only this section) at commit ${commit}, ${new Date().toISOString()}. ${busy}

| overdue invoices | pass | set-based floor | pass / floor | peak heap / RSS (pass) | transitions / events |
|---|---|---|---|---|---|
${rows}
`;
}
