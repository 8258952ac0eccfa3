// Advancing a sandbox tenant's test clock by 12 months, next to the worker closing the same periods.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));

export const CLOCK_SUBSCRIPTIONS = Number(process.env.BENCH_CLOCK_SUBSCRIPTIONS ?? 1000);
/** Each contender runs this many times, alternating (the shared machine's speed drifts); medians are reported. */
export const CLOCK_ROUNDS = Number(process.env.BENCH_CLOCK_ROUNDS ?? 3);

type ClockMode = "advance" | "worker";

interface ClockRun {
  mode: ClockMode;
  subscriptions: number;
  invoices: number;
  seconds: number;
}

export interface TestClockResult {
  readonly advance: ClockRun[];
  readonly worker: ClockRun[];
}

function runOnce(mode: ClockMode, count: number, adminUrl: string): ClockRun {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "src/clock-run.ts", mode, String(count), adminUrl],
    {
      cwd: here,
      encoding: "utf8",
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (result.status !== 0) throw new Error(`clock ${mode} failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as ClockRun;
  console.log(
    `clock ${mode.padEnd(7)} ${count} subscriptions × 12 months: ${parsed.seconds} s (${parsed.invoices} invoices)`,
  );
  return parsed;
}

export function testClockBenchmark(adminUrl: string): TestClockResult {
  const advance: ClockRun[] = [];
  const worker: ClockRun[] = [];
  for (let round = 0; round < CLOCK_ROUNDS; round++) {
    advance.push(runOnce("advance", CLOCK_SUBSCRIPTIONS, adminUrl));
    worker.push(runOnce("worker", CLOCK_SUBSCRIPTIONS, adminUrl));
  }
  return { advance, worker };
}

const median = (runs: ClockRun[]) => {
  const sorted = runs.map((r) => r.seconds).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export function testClockSection(result: TestClockResult, git: string, busy: string): string {
  const advance = median(result.advance);
  const worker = median(result.worker);
  const all = (runs: ClockRun[]) => runs.map((r) => `${r.seconds}`).join(", ");
  return `## Test clocks

A sandbox tenant with ${CLOCK_SUBSCRIPTIONS.toLocaleString("en")} subscriptions (\`studio\` with two add-ons, created on
1 January) billed for a year, 12 periods each (${(CLOCK_SUBSCRIPTIONS * 12).toLocaleString("en")} invoices), every invoice charged
through the sandbox provider (\`tok_ok\`) and paid, at commit ${git}. Each run is a process of its own
on a fresh database; the contenders alternate, ${CLOCK_ROUNDS} runs each, medians shown.

- **advance**: \`advanceTestClock\` (what \`POST /tenants/{id}/clock/advance\` runs) by 12 months in one
  call, in one transaction: at each of the 12 month ends the rollover, then collection's charge at
  issue (ARCHITECTURE.md, test clocks).
- **worker**: the same subscriptions in an ordinary tenant, the same periods closed by one
  \`runRolloverPass\` at the year's end (batches with 12-period catch-up, two in flight), then one
  \`runCollectionPass\` charging every invoice — what \`pnpm worker --once --now 2028-01-01\` runs,
  without the process start.

| what | seconds (median) | runs | advance / worker |
|---|---|---|---|
| advance, 12 months in one call | ${advance} | ${all(result.advance)} | ${(advance / worker).toFixed(2)}× |
| worker pass, 12 periods of catch-up, then collection | ${worker} | ${all(result.worker)} | 1.00× |

Goal: the advance within 1.5× of the worker. ${busy}
`;
}
