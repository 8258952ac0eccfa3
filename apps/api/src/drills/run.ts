// `pnpm drill`: the reliability drills too slow or too disruptive for the test suite. Exits
// non-zero when a drill's expectation fails. (Drills 1, 2 and 5 run in the suite: src/drills/*.test.ts.)
import { postgresOutageDrill } from "./postgres-outage.drill.ts";
import { workerKillDrill } from "./worker-kill.drill.ts";

const log = (msg: string) => console.log(`[drill] ${msg}`);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
  log(`${ok ? "ok  " : "FAIL"} ${what}`);
};

log("drill 3: PostgreSQL stopped and started under load (own instance)");
const outage = await postgresOutageDrill(log);
log(JSON.stringify(outage));
check(outage.lostWrites === 0, `no acknowledged write lost (${outage.acknowledgedWrites} acknowledged)`);
check(
  outage.readyzDuringOutage.every((s) => s === 503),
  `/readyz answered 503 while down (${outage.readyzDuringOutage.join(",")})`,
);
check(outage.serverErrorsWithoutJson === 0, "every failure during the outage was a clean JSON error");
check(outage.recoveredAfterMs >= 0, `recovered by itself (${outage.recoveredAfterMs} ms after restart)`);

log("drill 4: worker killed with SIGKILL repeatedly during a large rollover, then racing workers");
const kills = await workerKillDrill(log);
log(JSON.stringify(kills));
check(kills.duplicates === 0, "exactly one statement per (subscription, period)");
check(
  kills.statements === kills.expectedStatements,
  `every due period billed (${kills.statements}/${kills.expectedStatements})`,
);
check(kills.wrongAmounts === 0, "every amount right");
check(kills.killed >= 3, `killed mid-run ${kills.killed} times`);
check(kills.orphanStatements === 0, "no statement without its lines");
check(kills.periodsNotAdvanced === 0, "every subscription's period advanced to the one in progress");
check(
  kills.racerExitCodes.every((c) => c === 0),
  "racing workers exited 0",
);

if (failures.length > 0) {
  console.error(`[drill] ${failures.length} failed`);
  process.exit(1);
}
log("all drills passed");
process.exit(0);
