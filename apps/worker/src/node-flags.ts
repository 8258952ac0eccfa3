/**
 * The Node.js flags of a process that delivers webhooks: `pnpm worker`, and `pnpm start`, whose
 * process runs the dispatcher too. Their package.json scripts pass them (`node-flags.test.ts`
 * keeps the scripts in step with this list), and the webhook benchmark runs both of its
 * contenders with them.
 *
 * `--min-semi-space-size=16`: V8's young generation starts at the size it grows to anyway under
 * load (16 MiB a semi-space, its default maximum on 64-bit), rather than at 1 MiB, growing and
 * shrinking with the allocation rate. The dispatcher keeps an endpoint's claimed deliveries queued
 * for tens of milliseconds; with the young generation sized as the load left it, a run settled
 * either at about 0.9 MB promoted to the old generation per scavenge or at about 2 MB, with more
 * and longer scavenges, and which one was luck; from the full size, about 0.8 MB every time
 * (ARCHITECTURE.md, "Throughput"). The price is up to 32 MiB of young generation reserved.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--min-semi-space-size=16"];
