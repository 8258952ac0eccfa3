// One measured year of billing for one tenant in a process of its own:
//   tsx src/clock-run.ts <advance|worker> <subscriptions> <admin postgres url>
// The tenant pays by the sandbox provider (`tok_ok`), so every invoice is charged once and paid.
// advance: a sandbox tenant's test clock advanced by 12 months in one call (advanceTestClock, what
//          POST /tenants/{id}/clock/advance runs): at each month end the rollover, then collection's
//          charge at issue.
// worker:  the same subscriptions in an ordinary tenant, the same 12 periods closed by one worker pass
//          at the year's end with catch-up, then one collection pass charging the 12 invoices each
//          (runRolloverPass + runCollectionPass, what `pnpm worker --once --now` runs).

import {
  advanceTestClock,
  defaultPaymentProviders,
  migrateAndSeed,
  runCollectionPass,
  runRolloverPass,
  useCaseContext,
} from "@arcadia/db";
import { seedSubscriptions } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { inFreshDatabase, measure } from "./measured-run.ts";

const [mode, countText, adminUrl] = process.argv.slice(2);
const count = Number(countText);
if ((mode !== "advance" && mode !== "worker") || !Number.isInteger(count) || !adminUrl) {
  console.error("usage: clock-run.ts <advance|worker> <count> <admin url>");
  process.exit(2);
}

const start = new Date("2027-01-01T00:00:00Z");
const end = new Date("2028-01-01T00:00:00Z");
await inFreshDatabase(adminUrl, async (orm) => {
  await migrateAndSeed(orm);
  const { tenantId } = await seedSubscriptions(orm, {
    count,
    createdAt: start,
    addonCodes: ["storage_50gb", "compute_2vcpu"],
  });
  await orm.em
    .getConnection()
    .execute(
      "insert into payment_methods (tenant_id, id, provider, token, created_at) values (?, gen_random_uuid(), 'sandbox', 'tok_ok', ?)",
      [tenantId, start],
    );
  if (mode !== "worker") {
    await orm.em
      .getConnection()
      .execute("update tenants set sandbox = true, clock_frozen_at = ? where id = ?", [start, tenantId]);
  }
  await orm.em.getConnection().execute("vacuum analyze");
  const run = await measure(async () => {
    let invoices = 0;
    if (mode === "advance") {
      const operator = { id: "bench", role: "platform_admin", tenantId: null } as const;
      const ctx = useCaseContext(orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
      const summary = await advanceTestClock(ctx, operator, tenantId, end);
      invoices = summary.invoicesIssued;
    } else {
      const summary = await runRolloverPass(orm, { now: end });
      await runCollectionPass(orm, { now: end, providers: defaultPaymentProviders(orm) });
      invoices = summary.invoicesIssued;
    }
    const [paid] = await orm.em
      .getConnection()
      .execute("select count(*)::int as n from statements where status = 'paid'");
    if (paid?.n !== invoices) throw new Error(`${paid?.n} of ${invoices} invoices paid`);
    return invoices;
  });
  process.stdout.write(
    `${JSON.stringify({ mode, subscriptions: count, invoices: run.value, seconds: run.seconds })}\n`,
  );
});
