import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { advanceTestClock, newId, useCaseContext } from "@arcadia/db";
import { createTestDatabase, seedSubscriptions, type TestDatabase, testBackends } from "@arcadia/db/testing";
import { DEFAULT_REGIONS } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An advance is one transaction (SPEC §3.10): a process killed in the middle of one leaves the
// sandbox as it was, and the next advance does exactly what an uninterrupted one does.
const apiDir = fileURLToPath(new URL("..", import.meta.url));
const START = new Date("2027-01-01T00:00:00.000Z");
const TO = "2027-07-01T00:00:00.000Z";
const COUNT = 40;
const operator = { id: "test-operator", role: "platform_admin", tenantId: null } as const;

/** `pnpm api` in a process of its own over the test database; resolves once it listens. */
async function startApi(url: string, token: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: apiDir,
    env: { ...process.env, DATABASE_URL: url, PORT: "0", BOOTSTRAP_ADMIN_TOKEN: token, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const found = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.on("exit", (code) => reject(new Error(`the API exited (${code}) before listening:\n${out}`)));
  });
  return { child, base };
}

describe.each(testBackends())("a test clock's advance killed mid-way on %s", (backend) => {
  let db: TestDatabase;
  const sql = async (text: string, params: unknown[] = []) =>
    (await db.orm.em.fork().getConnection().execute(text, params)) as Record<string, unknown>[];

  beforeAll(async () => {
    db = await createTestDatabase(backend, { poolSize: 4 });
  });
  afterAll(() => db?.close());

  /** A sandbox at START with COUNT subscriptions, paying by a card that is always declined. */
  async function sandbox(): Promise<string> {
    const { tenantId } = await seedSubscriptions(db.orm, { count: COUNT, createdAt: START });
    await sql("update tenants set sandbox = true, clock_frozen_at = ? where id = ?", [START, tenantId]);
    await sql(
      "insert into payment_methods (tenant_id, id, provider, token, created_at) values (?, gen_random_uuid(), 'sandbox', 'tok_declined', ?)",
      [tenantId, START],
    );
    return tenantId;
  }

  /**
   * Whether an advance holds the tenant now: its row lock refuses a NOWAIT lock on PostgreSQL, and
   * on the embedded database (one transaction at a time) any query waits until it ends.
   */
  async function advanceHolds(tenantId: string): Promise<boolean> {
    const probe = sql("select id from tenants where id = ? for update nowait", [tenantId]).then(
      () => false,
      () => true,
    );
    return Promise.race([probe, new Promise<boolean>((r) => setTimeout(() => r(true), 300))]);
  }

  /** Everything an advance makes for a tenant, without ids (they differ between tenants). */
  async function outcome(tenantId: string) {
    return {
      clock: (await sql("select clock_frozen_at as at from tenants where id = ?", [tenantId]))[0]!.at,
      invoices: await sql(
        `select d.slug, s.period_start, s.total_cents, s.status, s.amount_paid_cents, s.issued_at, s.due_at, s.overdue_at
           from statements s join deployments d on d.id = s.deployment_id
          where s.tenant_id = ? order by d.slug, s.period_start`,
        [tenantId],
      ),
      payments: await sql(
        `select d.slug, s.period_start, p.attempt, p.status, p.failure_code, p.created_at
           from payments p join statements s on s.id = p.invoice_id join deployments d on d.id = s.deployment_id
          where p.tenant_id = ? order by d.slug, s.period_start, p.attempt`,
        [tenantId],
      ),
      charges: (
        await sql(
          "select count(*)::int as n from sandbox_charges c join statements s on s.id = c.invoice_id where s.tenant_id = ?",
          [tenantId],
        )
      )[0]!.n,
      // Reasons name the invoice, whose number is the tenant's own.
      transitions: (
        await sql(
          `select d.slug, e.sequence, e.to_state, e.actor_type, e.reason, e.occurred_at
             from deployment_events e join deployments d on d.id = e.deployment_id
            where d.tenant_id = ? order by d.slug, e.sequence`,
          [tenantId],
        )
      ).map(
        (t): Record<string, unknown> => ({
          ...t,
          reason: String(t.reason).replace(/INV-[A-Z0-9-]+-\d{6}/, "INV-…"),
        }),
      ),
      events: await sql(
        "select type, occurred_at, count(*)::int as n from events where tenant_id = ? group by 1, 2 order by 1, 2",
        [tenantId],
      ),
    };
  }

  it("SIGKILL of the API during an advance changes nothing; the next advance does what one uninterrupted does", {
    timeout: 300_000,
  }, async () => {
    const interrupted = await sandbox();
    const twin = await sandbox();
    const before = await outcome(interrupted);
    const token = `test-admin-${newId()}`;
    const api = await startApi(db.url, token);
    let answered = false;
    const request = fetch(`${api.base}/api/v1/tenants/${interrupted}/clock/advance`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to: TO }),
    }).then(
      () => {
        answered = true;
      },
      () => {},
    );
    const deadline = Date.now() + 60_000;
    while (!(await advanceHolds(interrupted)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 400)); // well into its instants
    api.child.kill("SIGKILL");
    await new Promise((r) => api.child.once("exit", r));
    await request;
    expect(answered, "the advance finished before the kill: give the sandbox more subscriptions").toBe(false);

    // Nothing of it is left: not the clock, not an invoice, not a charge in the sandbox's books.
    expect(await outcome(interrupted)).toEqual(before);

    const ctx = () => useCaseContext(db.orm.em.fork(), () => new Date(), DEFAULT_REGIONS);
    const resumed = await advanceTestClock(ctx(), operator, interrupted, new Date(TO));
    const straight = await advanceTestClock(ctx(), operator, twin, new Date(TO));
    expect(resumed.instants).toEqual(straight.instants);
    const [a, b] = [await outcome(interrupted), await outcome(twin)];
    expect(a).toEqual(b);
    // It did something worth interrupting: invoices, declined attempts, the ladder.
    expect(a.invoices.length).toBeGreaterThanOrEqual(COUNT * 2);
    expect(a.charges).toBe(a.payments.length);
    expect(new Set(a.transitions.map((t) => t.to_state))).toEqual(
      new Set(["active", "past_due", "suspended", "cancelled", "archived"]),
    );
  });
});
