// `pnpm drill`: the reliability drills too slow or too disruptive for the test suite. Exits
// non-zero when a drill's expectation fails. (Drills 1, 2 and 5 run in the suite: src/drills/*.test.ts.)
import { collectionChaosDrill } from "./collection-chaos.drill.ts";
import { postgresOutageDrill } from "./postgres-outage.drill.ts";
import { topologyDrill } from "./topology.drill.ts";
import { webhookDrill } from "./webhooks.drill.ts";
import { workerKillDrill } from "./worker-kill.drill.ts";

const log = (msg: string) => console.log(`[drill] ${msg}`);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
  log(`${ok ? "ok  " : "FAIL"} ${what}`);
};

// `pnpm drill [outage|worker-kill|topology|collection|webhooks]` runs one of them; no argument runs all.
const only = process.argv[2];
if (only === undefined || only === "outage") {
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
}

if (only === undefined || only === "worker-kill") {
  log("drill 4: worker killed with SIGKILL repeatedly during a large rollover, then racing workers");
  const kills = await workerKillDrill(log);
  log(JSON.stringify(kills));
  check(kills.duplicates === 0, "exactly one invoice per (subscription, period)");
  check(
    kills.invoices === kills.expectedInvoices,
    `every due period billed (${kills.invoices}/${kills.expectedInvoices})`,
  );
  check(kills.wrongAmounts === 0, "every amount right");
  check(kills.killed >= 3, `killed mid-run ${kills.killed} times`);
  check(kills.orphanInvoices === 0, "no invoice without its lines");
  check(kills.periodsNotAdvanced === 0, "every subscription's period advanced to the one in progress");
  check(
    kills.racerExitCodes.every((c) => c === 0),
    "racing workers exited 0",
  );
}

if (only === undefined || only === "topology") {
  log(
    "drill 6: two APIs and two workers behind a transaction-mode PgBouncer, one of each SIGKILLed under load",
  );
  const topology = await topologyDrill(log);
  log(JSON.stringify(topology));
  if ("skipped" in topology) {
    log(`skipped: ${topology.skipped}`);
  } else {
    check(topology.serverErrors === 0, `no 5xx through the pooler (${topology.requests} requests)`);
    check(
      topology.deploymentsMissing === 0,
      `every acknowledged deployment present (${topology.deploymentsAcknowledged})`,
    );
    check(
      topology.eventsMissing === 0,
      `every acknowledged transition present (${topology.eventsAcknowledged})`,
    );
    check(
      topology.subscriptionsMissing === 0,
      `every acknowledged subscription present (${topology.subscriptionsAcknowledged})`,
    );
    check(topology.chainsWithGaps === 0, "every event chain gap-free");
    check(
      topology.eventsRedone === 0,
      "no keyed write redone (events = creations + acknowledged transitions)",
    );
    check(
      topology.replaysMatched === topology.replaysAsked && topology.replaysAsked > 0,
      `retries against the other API replayed (${topology.replaysMatched}/${topology.replaysAsked})`,
    );
    check(
      topology.retriedAfterKill > 0,
      `writes cut off by the API kill retried elsewhere (${topology.retriedAfterKill})`,
    );
    check(topology.duplicateInvoices === 0, "exactly one invoice per (subscription, period)");
    check(
      topology.invoices === topology.expectedInvoices,
      `every due period billed (${topology.invoices}/${topology.expectedInvoices})`,
    );
    check(
      topology.billedAtWorkerKill > 0 && topology.billedAtWorkerKill < topology.expectedInvoices,
      `a worker was killed mid-run (${topology.billedAtWorkerKill} billed)`,
    );
    check(topology.finalPassExit === 0, "the final pass exited 0");
  }
}

if (only === undefined || only === "collection") {
  log("drill 7: a payment provider that times out, throws or declines at random, racing collection passes");
  const chaos = await collectionChaosDrill(log);
  log(JSON.stringify(chaos));
  check(
    chaos.attempted >= chaos.invoices,
    `${chaos.attempted} charges attempted for ${chaos.invoices} invoices`,
  );
  check(chaos.chargedTwice === 0, "no invoice charged twice");
  check(chaos.unrecordedCharges === 0, "every charge the provider took is recorded as succeeded");
  check(chaos.paidWithoutCharge === 0, "no payment recorded that the provider did not take");
  check(chaos.amountMismatches === 0, "every invoice's amount paid is the sum of its succeeded payments");
  check(chaos.duplicateAttempts === 0, "one attempt per invoice and attempt number");
  check(
    chaos.stillInFlight === 0,
    `every attempt reconciled (${chaos.reconcilingPasses} extra reconciling passes, ${chaos.stillInFlight} left in flight)`,
  );
}

if (only === undefined || only === "webhooks") {
  log(
    "drill 9: 10,000 events to webhook receivers failing at random; the retry schedule walked with a drill clock",
  );
  const hooks = await webhookDrill(log);
  log(JSON.stringify(hooks));
  check(
    !hooks.timedOut,
    `nothing left pending within the ${hooks.boundSeconds} s bound (${hooks.seconds} s, ${hooks.rounds} rounds)`,
  );
  check(
    hooks.deliveries === hooks.expectedDeliveries && hooks.notSucceeded === 0,
    `every delivery succeeded in the end (${hooks.deliveries - hooks.notSucceeded}/${hooks.expectedDeliveries})`,
  );
  check(
    hooks.missingA + hooks.missingB + hooks.missingPlatform === 0,
    "every event reached every endpoint that subscribes to it: none lost",
  );
  check(hooks.unexpected === 0, "no endpoint received another tenant's event");
  check(
    hooks.attemptsLogged >= hooks.attemptsReceived && hooks.attemptsReceived > hooks.expectedDeliveries,
    `every attempt logged (${hooks.attemptsLogged} attempts, ${hooks.attemptsReceived} received)`,
  );
}

if (failures.length > 0) {
  console.error(`[drill] ${failures.length} failed`);
  process.exit(1);
}
log("all drills passed");
process.exit(0);
