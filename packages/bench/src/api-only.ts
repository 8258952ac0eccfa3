// `pnpm --filter @arcadia/bench run bench:api [seconds]`: only the API load benchmark, printed.
import { apiBenchmark } from "./api-load.ts";
import { medianTurnRatio } from "./http-load.ts";
import { benchDatabaseUrl } from "./machine.ts";

const url = benchDatabaseUrl;
const result = await apiBenchmark(url, Number(process.argv[2] ?? 5));
const { loads, ...groups } = result;
for (const [group, runs] of Object.entries(groups)) {
  const floor = (runs as Record<string, Parameters<typeof medianTurnRatio>[0]>).floor;
  for (const [name, run] of Object.entries(runs)) {
    const { turns: _turns, ...figures } = run;
    const ofFloor =
      floor && run !== floor
        ? ` of floor: ${Math.round((run.perSecond * 100) / floor.perSecond)}%, median of rounds ${Math.round(medianTurnRatio(run, floor) * 100)}%`
        : "";
    console.log(group, name, JSON.stringify(figures) + ofFloor);
  }
  console.log(group, "load average", loads[group as keyof typeof loads]);
}
