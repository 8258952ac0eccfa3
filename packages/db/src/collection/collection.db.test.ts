import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRolloverPass } from "../billing/rollover.ts";
import { createDeployment, transitionDeployment, updateDeployment } from "../deployments/deployments.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { createTenant } from "../tenancy/tenants.ts";
import {
  codeOf,
  createTestDatabase,
  deploymentDocument,
  operator,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { runCollectionPass } from "./collection-pass.ts";
import {
  collectionPreview,
  listPayments,
  markInvoiceUncollectible,
  payInvoice,
  recordManualPayment,
  voidInvoice,
} from "./payments.ts";
import { defaultPaymentProviders, type PaymentProviders } from "./sandbox-provider.ts";
import { setDunningPolicy, setPaymentMethod } from "./tenant-settings.ts";

const at = (iso: string) => new Date(iso);
// A deployment subscribed on 1 Nov is invoiced on 1 Dec, due on 8 Dec (7 days' terms).
const ISSUE = "2026-12-01T00:00:00.000Z";
const DUE = at("2026-12-08T00:00:00Z");
const day = (n: number) => new Date(DUE.getTime() + n * 86_400_000);
/** The instants the ladder acts at with the default policy: retries at +1, +3, +5, +7; steps at 0, 14, 30; archive 60 days after. */
const LADDER = [at(ISSUE), day(0), day(1), day(3), day(5), day(7), day(14), day(30), day(90)];

describe.each(testBackends({ pooled: true }))("collection on %s", (backend) => {
  let db: TestDatabase;
  let providers: PaymentProviders;
  const clock = new TestClock(at("2026-11-01T00:00:00Z"));
  const ctx = () => testContext(db.orm, clock);
  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await db.orm.em.fork().getConnection().execute(text, params)) as T[];

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    providers = defaultPaymentProviders(db.orm);
  });
  afterAll(() => db?.close());

  async function tenant(token: string | null): Promise<TenantFixture & { slug: string }> {
    clock.set("2026-11-01T00:00:00Z");
    const slug = `c-${randomBytes(4).toString("hex")}`;
    const created = await createTenant(ctx(), operator, { slug, name: slug });
    if (token) await setPaymentMethod(ctx(), operator, created.id, { provider: "sandbox", token }, providers);
    return {
      slug,
      tenantId: created.id,
      admin: { id: `${created.id.slice(0, 8)}-admin`, role: "tenant_admin", tenantId: created.id },
      viewer: { id: `${created.id.slice(0, 8)}-viewer`, role: "tenant_viewer", tenantId: created.id },
    };
  }

  async function subscribedDeployment(t: TenantFixture, slug = "app"): Promise<string> {
    clock.set("2026-11-01T00:00:00Z");
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug,
      displayName: "App",
      region: "au-syd",
    });
    await subscribe(ctx(), t.admin, deployment.id, { planCode: "studio" });
    return deployment.id;
  }

  /** The worker at `now`: rollover, then collection (as `pnpm worker --once --now` runs them). */
  async function pass(now: Date) {
    clock.set(now);
    await runRolloverPass(db.orm, { now });
    return runCollectionPass(db.orm, { now, providers });
  }

  async function events(deploymentId: string) {
    const doc = await deploymentDocument(ctx(), operator, deploymentId);
    return doc.events
      .slice(1)
      .map((e) => ({ to: e.toState, actor: e.actor.type, at: e.occurredAt, reason: e.reason }));
  }

  async function firstInvoice(deploymentId: string) {
    const [row] = await sql<{ id: string; number: string; status: string; amount_paid_cents: string }>(
      "select id, number, status, amount_paid_cents from statements where deployment_id = ? order by period_start limit 1",
      [deploymentId],
    );
    return row!;
  }

  async function attempts(invoiceId: string) {
    const rows = await sql<{
      attempt: number;
      status: string;
      failure_code: string | null;
      created_at: Date;
    }>(
      "select attempt, status, failure_code, created_at from payments where invoice_id = ? order by created_at, attempt",
      [invoiceId],
    );
    return rows.map((r) => [r.attempt, r.status, r.failure_code]);
  }

  const failedLadder = (invoice: string) => [
    { to: "past_due", actor: "system", at: day(0).toISOString(), reason: expect.stringContaining(invoice) },
    { to: "suspended", actor: "system", at: day(14).toISOString(), reason: expect.stringContaining(invoice) },
    { to: "cancelled", actor: "system", at: day(30).toISOString(), reason: expect.stringContaining(invoice) },
    {
      to: "archived",
      actor: "system",
      at: day(90).toISOString(),
      reason: expect.stringContaining("retention"),
    },
  ];

  it("tok_ok: charged at issue, paid, nothing else happens", async () => {
    const t = await tenant("tok_ok");
    const id = await subscribedDeployment(t);
    for (const now of LADDER) await pass(now);
    const invoice = await firstInvoice(id);
    expect(invoice.number).toBe(`INV-${t.slug.toUpperCase()}-000001`);
    expect(invoice.status).toBe("paid");
    expect(await attempts(invoice.id)).toEqual([[1, "succeeded", null]]);
    expect(await events(id)).toEqual([]);
  });

  it("tok_timeout: the charge answers unknown, lookup finds it succeeded; charged once", async () => {
    const t = await tenant("tok_timeout");
    const id = await subscribedDeployment(t);
    const summary = await pass(at(ISSUE));
    expect(summary.charges).toMatchObject({ attempted: 1, unknown: 1 });
    const invoice = await firstInvoice(id);
    expect(invoice.status).toBe("open");
    // The next pass reconciles by lookup, never by charging again.
    const later = await pass(at("2026-12-01T00:05:00Z"));
    expect(later.reconciled).toBe(1);
    expect((await firstInvoice(id)).status).toBe("paid");
    expect(await attempts(invoice.id)).toEqual([[1, "succeeded", null]]);
    const charges = await sql("select * from sandbox_charges where invoice_id = ?", [invoice.id]);
    expect(charges).toHaveLength(1);
    for (const now of LADDER.slice(1)) await pass(now);
    expect(
      await events(id),
      JSON.stringify(
        await sql("select number, status, due_at from statements where deployment_id = ?", [id]),
      ),
    ).toEqual([]);
  });

  for (const [token, code] of [
    ["tok_declined", "card_declined"],
    ["tok_insufficient_funds", "insufficient_funds"],
  ] as const) {
    it(`${token}: retried on schedule, then the whole ladder`, async () => {
      const t = await tenant(token);
      const id = await subscribedDeployment(t);
      for (const now of LADDER) await pass(now);
      const invoice = await firstInvoice(id);
      expect(invoice.status).toBe("open");
      expect(await attempts(invoice.id)).toEqual([1, 2, 3, 4, 5].map((n) => [n, "failed", code]));
      const attemptTimes = await sql<{ created_at: Date }>(
        "select created_at from payments where invoice_id = ? order by attempt",
        [invoice.id],
      );
      expect(attemptTimes.map((r) => new Date(r.created_at).toISOString())).toEqual(
        [at(ISSUE), day(1), day(3), day(5), day(7)].map((d) => d.toISOString()),
      );
      expect(await events(id)).toEqual(failedLadder(invoice.number));
    });
  }

  it("tok_lost_card: one attempt, no retries until the method changes; the ladder runs", async () => {
    const t = await tenant("tok_lost_card");
    const id = await subscribedDeployment(t);
    for (const now of LADDER.slice(0, 4)) await pass(now);
    const invoice = await firstInvoice(id);
    expect(await attempts(invoice.id)).toEqual([[1, "failed", "lost_card"]]);
    for (const now of LADDER.slice(4)) await pass(now);
    expect(await attempts(invoice.id)).toEqual([[1, "failed", "lost_card"]]);
    expect(await events(id)).toEqual(failedLadder(invoice.number));
  });

  it("a new payment method lifts a final failure: the next pass charges it and settles the deployment", async () => {
    const t = await tenant("tok_lost_card");
    const id = await subscribedDeployment(t);
    for (const now of [at(ISSUE), day(0), day(3)]) await pass(now);
    clock.set(day(4));
    await setPaymentMethod(ctx(), t.admin, t.tenantId, { provider: "sandbox", token: "tok_ok" }, providers);
    await pass(day(4));
    const invoice = await firstInvoice(id);
    expect(await attempts(invoice.id)).toEqual([
      [1, "failed", "lost_card"],
      [3, "succeeded", null],
    ]);
    expect(invoice.status).toBe("paid");
    expect((await events(id)).map((e) => [e.to, e.actor])).toEqual([
      ["past_due", "system"],
      ["active", "system"],
    ]);
  });

  it("a manual payment settles a deployment collection suspended (partial first)", async () => {
    const t = await tenant(null);
    const id = await subscribedDeployment(t);
    for (const now of LADDER.slice(0, 7)) await pass(now);
    const invoice = await firstInvoice(id);
    expect((await deploymentDocument(ctx(), operator, id)).deployment.state).toBe("suspended");
    clock.set(day(15));
    await recordManualPayment(ctx(), operator, invoice.id, { amountCents: 900, reference: "bank 1" });
    expect((await deploymentDocument(ctx(), operator, id)).deployment.state).toBe("suspended");
    await recordManualPayment(ctx(), operator, invoice.id, { amountCents: 4000 });
    const doc = await deploymentDocument(ctx(), operator, id);
    expect(doc.deployment.state).toBe("active");
    expect(doc.events.at(-1)).toMatchObject({ actor: { type: "system" }, toState: "active" });
    expect(doc.events.at(-1)!.reason).toContain(invoice.number);
    expect((await firstInvoice(id)).status).toBe("paid");
    expect(
      (await listPayments(ctx(), t.admin, invoice.id)).map((p) => [p.method, p.amountCents, p.status]),
    ).toEqual([
      ["manual", 900, "succeeded"],
      ["manual", 4000, "succeeded"],
    ]);
    // Nothing more happens to it.
    await pass(day(31));
    expect((await deploymentDocument(ctx(), operator, id)).deployment.state).toBe("active");
  });

  it("an operator's own suspension survives a payment", async () => {
    const t = await tenant(null);
    const id = await subscribedDeployment(t);
    for (const now of LADDER.slice(0, 2)) await pass(now);
    clock.set(day(2));
    await transitionDeployment(ctx(), operator, id, { to: "suspended", reason: "abuse report" });
    const invoice = await firstInvoice(id);
    await recordManualPayment(ctx(), operator, invoice.id, { amountCents: 4900 });
    await pass(day(3));
    const doc = await deploymentDocument(ctx(), operator, id);
    expect(doc.deployment.state).toBe("suspended");
    expect(doc.events.at(-1)).toMatchObject({ actor: { type: "principal" }, reason: "abuse report" });
  });

  it("the override blocks every step (counted as skipped); lifting it lets collection catch up", async () => {
    const t = await tenant("tok_declined");
    const id = await subscribedDeployment(t);
    clock.set("2026-11-02T00:00:00Z");
    await updateDeployment(ctx(), operator, id, { billingActionSuspended: true });
    let skipped = 0;
    for (const now of LADDER) skipped += (await pass(now)).skipped;
    const invoice = await firstInvoice(id);
    expect(await attempts(invoice.id)).toEqual([]);
    expect(await events(id)).toEqual([]);
    expect(skipped).toBeGreaterThanOrEqual(LADDER.length - 1);
    expect((await collectionPreview(ctx(), operator, id)).nextActions).toEqual([]);
    // Invoices are still issued under the override.
    expect(invoice.status).toBe("open");
    clock.set(day(91));
    await updateDeployment(ctx(), operator, id, { billingActionSuspended: false });
    await pass(day(91));
    expect((await events(id)).map((e) => e.to)).toEqual(["past_due", "suspended", "cancelled"]);
  });

  it("void and mark-uncollectible stop dunning and settle; errors change nothing", async () => {
    const t = await tenant(null);
    const id = await subscribedDeployment(t);
    for (const now of LADDER.slice(0, 2)) await pass(now);
    const invoice = await firstInvoice(id);
    clock.set(day(1));
    expect(await codeOf(payInvoice(ctx(), t.admin, invoice.id, { orm: db.orm, providers }))).toBe(
      "NO_PAYMENT_METHOD",
    );
    expect(await codeOf(recordManualPayment(ctx(), operator, invoice.id, { amountCents: 4901 }))).toBe(
      "OVERPAYMENT",
    );
    expect(await codeOf(recordManualPayment(ctx(), operator, invoice.id, { amountCents: 0 }))).toBe(
      "VALIDATION_FAILED",
    );
    expect(await codeOf(recordManualPayment(ctx(), t.admin, invoice.id, { amountCents: 1 }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(voidInvoice(ctx(), t.admin, invoice.id))).toBe("FORBIDDEN");
    const other = await tenant(null);
    expect(await codeOf(recordManualPayment(ctx(), other.admin, invoice.id, { amountCents: 1 }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(listPayments(ctx(), other.viewer, invoice.id))).toBe("NOT_FOUND");
    expect(await codeOf(payInvoice(ctx(), t.viewer, invoice.id, { orm: db.orm, providers }))).toBe(
      "FORBIDDEN",
    );
    expect(await attempts(invoice.id)).toEqual([]);
    expect((await firstInvoice(id)).status).toBe("open");
    await voidInvoice(ctx(), operator, invoice.id);
    expect((await deploymentDocument(ctx(), operator, id)).deployment.state).toBe("active");
    expect(await codeOf(recordManualPayment(ctx(), operator, invoice.id, { amountCents: 1 }))).toBe(
      "INVOICE_NOT_OPEN",
    );
    expect(await codeOf(markInvoiceUncollectible(ctx(), operator, invoice.id))).toBe("INVOICE_NOT_OPEN");
    await pass(day(40));
    expect((await events(id)).map((e) => e.to)).toEqual(["past_due", "active"]);

    const second = await subscribedDeployment(t, "app-2");
    for (const now of [at(ISSUE), day(0)]) await pass(now);
    const owed = await firstInvoice(second);
    clock.set(day(1));
    await recordManualPayment(ctx(), operator, owed.id, { amountCents: 100 });
    expect(await codeOf(voidInvoice(ctx(), operator, owed.id))).toBe("CONFLICT");
    await markInvoiceUncollectible(ctx(), operator, owed.id);
    expect((await firstInvoice(second)).status).toBe("uncollectible");
    expect((await deploymentDocument(ctx(), operator, second)).deployment.state).toBe("active");
  });

  it("pay now charges the method at once (admins)", async () => {
    const t = await tenant("tok_declined");
    const id = await subscribedDeployment(t);
    await pass(at(ISSUE));
    const invoice = await firstInvoice(id);
    clock.set("2026-12-02T00:00:00Z");
    await setPaymentMethod(ctx(), t.admin, t.tenantId, { provider: "sandbox", token: "tok_ok" }, providers);
    const payment = await payInvoice(ctx(), t.admin, invoice.id, { orm: db.orm, providers });
    expect(payment).toMatchObject({ status: "succeeded", attempt: 2, amountCents: 4900, method: "provider" });
    expect((await firstInvoice(id)).status).toBe("paid");
    expect(await codeOf(payInvoice(ctx(), t.admin, invoice.id, { orm: db.orm, providers }))).toBe(
      "INVOICE_NOT_OPEN",
    );
  });

  it("previews the dated plan before the invoice is overdue, following the tenant's policy", async () => {
    const t = await tenant(null);
    const id = await subscribedDeployment(t);
    await pass(at(ISSUE));
    clock.set("2026-12-02T00:00:00Z");
    await setDunningPolicy(ctx(), operator, t.tenantId, {
      retryAfterDays: [2],
      pastDueAfterDays: 1,
      suspendAfterDays: 5,
      cancelAfterDays: 10,
      archiveAfterDays: 20,
    });
    const preview = await collectionPreview(ctx(), t.viewer, id);
    const invoice = await firstInvoice(id);
    expect(preview.amountDueCents).toBe(4900);
    expect(preview.overdueInvoices).toEqual([]);
    expect(preview.nextActions.map((a) => [a.action, a.at.toISOString(), a.invoiceId])).toEqual([
      ["past_due", day(1).toISOString(), invoice.id],
      ["suspend", day(5).toISOString(), invoice.id],
      ["cancel", day(10).toISOString(), invoice.id],
      ["archive", day(30).toISOString(), invoice.id],
    ]);
    clock.set(day(1));
    expect((await collectionPreview(ctx(), operator, id)).overdueInvoices.map((i) => i.invoice.id)).toEqual([
      invoice.id,
    ]);
  });

  it("racing workers make one attempt per scheduled retry and one transition per step", async () => {
    const t = await tenant("tok_declined");
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await subscribedDeployment(t, `race-${i}`));
    for (const now of LADDER) {
      clock.set(now);
      await runRolloverPass(db.orm, { now });
      await Promise.all([1, 2, 3].map(() => runCollectionPass(db.orm, { now, providers, batchSize: 2 })));
    }
    for (const id of ids) {
      const invoice = await firstInvoice(id);
      expect(await attempts(invoice.id)).toEqual([1, 2, 3, 4, 5].map((n) => [n, "failed", "card_declined"]));
      expect((await events(id)).map((e) => e.to)).toEqual(["past_due", "suspended", "cancelled", "archived"]);
    }
    const [dup] = await sql<{ n: number }>(
      "select count(*)::int as n from (select invoice_id, attempt from payments where attempt is not null group by 1, 2 having count(*) > 1) x",
    );
    expect(dup!.n).toBe(0);
  });

  it("numbers stay consecutive per tenant when issuing batches roll back", async () => {
    const t = await tenant(null);
    for (let i = 0; i < 5; i++) await subscribedDeployment(t, `num-${i}`);
    const sequence = `boom_${randomBytes(3).toString("hex")}`;
    await sql(`create sequence ${sequence}`);
    await sql(
      `create function ${sequence}_fail() returns trigger language plpgsql as $$
       begin if new.tenant_id = '${t.tenantId}' and nextval('${sequence}') in (2, 4) then raise exception 'forced rollback'; end if; return new; end $$`,
    );
    await sql(
      `create trigger ${sequence}_trigger before insert on statements for each row execute function ${sequence}_fail()`,
    );
    try {
      let failures = 0;
      for (let i = 0; i < 6; i++) {
        try {
          await runRolloverPass(db.orm, { now: at(ISSUE), batchSize: 1, concurrency: 1 });
        } catch {
          failures += 1;
        }
      }
      expect(failures).toBeGreaterThan(0);
    } finally {
      await sql(`drop trigger ${sequence}_trigger on statements`);
    }
    const numbers = await sql<{ number: string }>(
      "select number from statements where tenant_id = ? order by number",
      [t.tenantId],
    );
    expect(numbers.map((n) => n.number)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `INV-${t.slug.toUpperCase()}-${String(n).padStart(6, "0")}`),
    );
  });

  it("property: amountPaidCents is the sum of succeeded payments and never exceeds the total", async () => {
    const t = await tenant(null);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("manual" as const), amount: fc.integer({ min: -100, max: 5000 }) }),
            fc.record({
              kind: fc.constant("method" as const),
              token: fc.constantFrom(
                "tok_ok",
                "tok_declined",
                "tok_lost_card",
                "tok_timeout",
                "tok_insufficient_funds",
              ),
            }),
            fc.record({ kind: fc.constant("pass" as const), days: fc.integer({ min: 0, max: 20 }) }),
            fc.record({ kind: fc.constantFrom("pay" as const, "void" as const, "uncollectible" as const) }),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        async (operations) => {
          const id = await subscribedDeployment(t, `prop-${++n}`);
          await pass(at(ISSUE));
          const invoice = await firstInvoice(id);
          let now = at(ISSUE).getTime();
          for (const op of operations) {
            clock.set(new Date(now));
            const deps = { orm: db.orm, providers };
            if (op.kind === "manual")
              await codeOf(recordManualPayment(ctx(), operator, invoice.id, { amountCents: op.amount }));
            else if (op.kind === "method")
              await setPaymentMethod(
                ctx(),
                operator,
                t.tenantId,
                { provider: "sandbox", token: op.token },
                providers,
              );
            else if (op.kind === "pass") {
              now += op.days * 86_400_000 + 1;
              await pass(new Date(now));
            } else if (op.kind === "pay") await codeOf(payInvoice(ctx(), operator, invoice.id, deps));
            else if (op.kind === "void") await codeOf(voidInvoice(ctx(), operator, invoice.id));
            else await codeOf(markInvoiceUncollectible(ctx(), operator, invoice.id));
            const [row] = await sql<{ total: string; paid: string; succeeded: string; status: string }>(
              `select s.total_cents as total, s.amount_paid_cents as paid, s.status,
                      (select coalesce(sum(amount_cents), 0) from payments p where p.invoice_id = s.id and p.status = 'succeeded') as succeeded
                 from statements s where s.id = ?`,
              [invoice.id],
            );
            expect(Number(row!.paid)).toBe(Number(row!.succeeded));
            expect(Number(row!.paid)).toBeLessThanOrEqual(Number(row!.total));
            expect(row!.status === "paid").toBe(Number(row!.paid) === Number(row!.total));
          }
          // Each provider charge at most once per key, and every succeeded one recorded.
          const [unrecorded] = await sql<{ n: number }>(
            `select count(*)::int as n from sandbox_charges c where c.invoice_id = ? and c.status = 'succeeded'
               and not exists (select 1 from payments p where p.invoice_id = c.invoice_id and p.status in ('succeeded', 'unknown', 'pending')
                 and c.idempotency_key = p.invoice_id || ':' || p.attempt)`,
            [invoice.id],
          );
          expect(unrecorded!.n).toBe(0);
        },
      ),
      { numRuns: 12 },
    );
  });
});
