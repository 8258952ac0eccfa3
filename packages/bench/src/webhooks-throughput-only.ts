// `pnpm --filter @arcadia/bench bench:webhooks:throughput [pairs]`: only the deliveries/s half of
// the webhook benchmark, printed (BENCHMARKS.md is not touched): for measuring a change quickly.

import { benchDatabaseUrl } from "./machine.ts";
import { webhookThroughput } from "./webhooks.ts";

const adminUrl = benchDatabaseUrl;
const pairs = Number(process.argv[2] ?? 5);
const result = await webhookThroughput(adminUrl, { pairs });
for (const p of result.pairs)
  console.log(
    `bare ${p.bare.perSecond}/s (${p.bare.cpuMicros} µs, pg ${p.bare.postgresCpuMicros}, rcv ${p.bare.receiverCpuMicros})  ` +
      `worker ${p.worker.perSecond}/s (${p.worker.cpuMicros} µs, pg ${p.worker.postgresCpuMicros}, rcv ${p.worker.receiverCpuMicros})  ` +
      `${Math.round((p.worker.perSecond * 100) / p.bare.perSecond)}% warm, ${Math.round((p.worker.coldPerSecond * 100) / p.bare.coldPerSecond)}% cold`,
  );
const ratios = result.pairs.map((p) => (p.worker.perSecond * 100) / p.bare.perSecond).sort((a, b) => a - b);
console.log(`median of pair ratios: ${Math.round(ratios[Math.floor(ratios.length / 2)]!)}%`);
process.exit(0);
