/**
 * The Node.js flags of a process that delivers webhooks: `pnpm worker`, and `pnpm start`, whose
 * process runs the dispatcher too. Their package.json scripts pass them (`node-flags.test.ts`
 * keeps the scripts in step with this list), and the webhook benchmark runs both of its
 * contenders with them.
 *
 * `--min-semi-space-size=16`: V8's young generation starts at the size it grows to anyway under
 * load here (16 MiB a semi-space: V8's maximum for a 64-bit process with the default heap limit;
 * where a smaller heap limit makes V8's maximum smaller, V8 holds the flag to it), rather than at
 * 1 MiB, growing and shrinking with the allocation rate. The dispatcher keeps an endpoint's claimed
 * deliveries queued for tens of milliseconds; with the young generation sized as the load left
 * it, a benchmark run settled either at about 0.9 MB promoted to the old generation per scavenge
 * or at about 2 MB, with more and longer scavenges, and which one was luck; from the full size,
 * 0.7–0.85 MB in each of three runs (ARCHITECTURE.md, "Throughput"). The price: the young
 * generation is used in full, about 32 MiB of memory per process.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--min-semi-space-size=16"];

/**
 * Node's arguments that start the worker as `pnpm worker` does (its entry point, with its flags),
 * run from the worker package's folder: for tests and drills that start it as a process of its own.
 */
export function workerProcessArgs(...args: string[]): string[] {
  return ["--import", "tsx", ...WORKER_NODE_FLAGS, "src/main.ts", ...args];
}
