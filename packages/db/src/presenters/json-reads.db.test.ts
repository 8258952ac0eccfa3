import {
  DEPLOYMENT_STATES,
  DeploymentEvent,
  INVOICE_STATUSES,
  LINE_KINDS,
  LLM_MODES,
  PLAN_CHANGE_KINDS,
  type Principal,
  ROLES,
  SUBSCRIPTION_STATUSES,
} from "@arcadia/domain";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listInvoicesJson } from "../billing/invoice-reads.ts";
import { listInvoices } from "../billing/invoices.ts";
import { listDeploymentsJson, readDeploymentDocumentJson } from "../deployments/deployment-reads.ts";
import {
  findVisibleDeployment,
  listDeployments,
  loadSubscriptionDocument,
} from "../deployments/deployments.ts";
import { connect, type Orm } from "../orm.ts";
import { newId } from "../shared/ids.ts";
import {
  createTestDatabase,
  operator,
  type TenantFixture,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { presentDeployment, presentDeploymentDocument, presentInvoice, presentPage } from "./presenters.ts";

// The JSON PostgreSQL builds for the hot reads (json-reads.ts) and the presenters over loaded
// entities are two writings of one shape; this generated test is what holds them together. For
// many generated rows — awkward text (quotes, control characters, non-BMP), every state, role and
// status, nulls and not, long decimals, instants to the millisecond — both must give the same
// bytes: the document (by query and, pooled per transaction, by the generated function) and
// pages of both lists under every filter and cursor.

const text = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('"', "\\", "/", "\n", "\t", "\u0001", "\u001f", "\u007f", "\u2028", "é", "😀", "<"),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 40,
  })
  .filter((s) => !s.includes("\u0000"));
const instant = fc
  .date({
    min: new Date("2001-01-01T00:00:00.000Z"),
    max: new Date("2099-12-31T23:59:59.999Z"),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());
const decimal = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 999_999_999_999_999_999n }),
    fc.integer({ min: 0, max: 999_999 }),
    fc.boolean(),
  )
  .map(([whole, fraction, withFraction]) =>
    withFraction ? `${whole}.${String(fraction).padStart(6, "0")}` : String(whole === 0n ? 1n : whole),
  )
  .filter((q) => q !== "0.000000");
const cents = fc.integer({ min: 0, max: 9_007_199_254_740 });
const actor = fc.oneof(
  fc.record({ type: fc.constant("system"), id: text, role: fc.constant(null) }),
  fc.record({ type: fc.constant("principal"), id: text, role: fc.constantFrom(...ROLES) }),
);

const fixture = (versions: readonly string[]) =>
  fc.record({
    displayName: text,
    state: fc.constantFrom(...DEPLOYMENT_STATES),
    llmMode: fc.constantFrom(...LLM_MODES),
    suspended: fc.boolean(),
    template: fc.option(fc.tuple(text, text)),
    createdAt: instant,
    updatedAt: instant,
    events: fc.array(
      fc.record({ to: fc.constantFrom(...DEPLOYMENT_STATES), actor, reason: fc.option(text), at: instant }),
      { minLength: 1, maxLength: 4 },
    ),
    subscription: fc.option(
      fc.record({
        version: fc.constantFrom(...versions),
        pending: fc.option(fc.constantFrom(...versions)),
        status: fc.constantFrom(...SUBSCRIPTION_STATUSES),
        start: instant,
        trialEndsAt: fc.option(instant),
        endedAt: fc.option(instant),
        at: instant,
        addons: fc.array(
          fc.record({
            code: text,
            kind: text,
            qty: decimal,
            price: cents,
            attachedAt: instant,
            detached: fc.option(fc.integer({ min: 0, max: 10 ** 10 })),
          }),
          { maxLength: 3 },
        ),
        changes: fc.array(
          fc.record({
            from: fc.option(fc.constantFrom(...versions)),
            to: fc.constantFrom(...versions),
            kind: fc.constantFrom(...PLAN_CHANGE_KINDS),
            requestedAt: instant,
            effectiveAt: instant,
            actor,
            supersededAt: fc.option(instant),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        invoices: fc.array(
          fc.record({
            status: fc.constantFrom(...INVOICE_STATUSES),
            total: cents,
            paidShare: fc.double({ min: 0, max: 1, noNaN: true }),
            issuedAt: instant,
            paidAt: fc.option(instant),
            voidedAt: fc.option(instant),
            lines: fc.array(
              fc.record({
                kind: fc.constantFrom(...LINE_KINDS),
                description: text,
                unit: cents,
                billable: fc.integer({ min: 1, max: 2_678_400_000 }),
                amount: cents,
              }),
              { minLength: 1, maxLength: 3 },
            ),
          }),
          { maxLength: 2 },
        ),
      }),
    ),
  });

type Fixture = ReturnType<typeof fixture> extends fc.Arbitrary<infer F> ? F : never;

let serial = 0;

/** Writes one generated deployment (and its subscription, add-ons, plan history, invoices) in SQL. */
async function insert(orm: Orm, tenantId: string, f: Fixture): Promise<string> {
  const sql = (query: string, params: unknown[]) => orm.em.getConnection().execute(query, params);
  const id = newId();
  serial += 1;
  await sql(
    `insert into deployments (id, tenant_id, slug, display_name, region, state, llm_mode, billing_action_suspended,
       template_code, template_version, last_event_sequence, created_at, updated_at)
     values (?, ?, ?, ?, 'au-syd', ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      tenantId,
      `gen-${serial}-${id.slice(-6)}`,
      f.displayName,
      f.state,
      f.llmMode,
      f.suspended,
      f.template?.[0] ?? null,
      f.template?.[1] ?? null,
      f.events.length,
      f.createdAt,
      f.updatedAt,
    ],
  );
  let from: string | null = null;
  for (const [index, e] of f.events.entries()) {
    await sql(
      `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [newId(), id, index + 1, from, e.to, e.actor.type, e.actor.id, e.actor.role, e.reason, e.at],
    );
    from = e.to;
  }
  const s = f.subscription;
  if (!s) return id;
  const subscriptionId = newId();
  const end = new Date(new Date(s.start).getTime() + 30 * 86_400_000).toISOString();
  await sql(
    `insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start, current_period_end,
       trial_ends_at, pending_plan_version_id, cancelled_at, ended_at, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      subscriptionId,
      id,
      tenantId,
      s.version,
      s.status,
      s.start,
      end,
      s.trialEndsAt,
      s.pending,
      s.status === "cancelled" ? s.at : null,
      s.endedAt,
      s.at,
      s.at,
    ],
  );
  for (const a of s.addons) {
    const detachedAt =
      a.detached === null ? null : new Date(new Date(a.attachedAt).getTime() + a.detached).toISOString();
    await sql(
      `insert into subscription_addons (id, subscription_id, addon_code, resource_kind, qty, price_cents, currency, attached_at, detached_at)
       values (?, ?, ?, ?, ?, ?, 'AUD', ?, ?)`,
      [newId(), subscriptionId, a.code, a.kind, a.qty, a.price, a.attachedAt, detachedAt],
    );
  }
  for (const [index, c] of s.changes.entries()) {
    await sql(
      `insert into subscription_plan_changes (id, subscription_id, from_plan_version_id, to_plan_version_id, kind,
         requested_at, effective_at, actor_type, actor_id, actor_role, superseded_at, sequence)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        newId(),
        subscriptionId,
        c.from,
        c.to,
        c.kind,
        c.requestedAt,
        c.effectiveAt,
        c.actor.type,
        c.actor.id,
        c.actor.role,
        c.supersededAt,
        index + 1,
      ],
    );
  }
  for (const [index, invoice] of s.invoices.entries()) {
    const invoiceId = newId();
    const periodStart = new Date(new Date(s.start).getTime() + index * 31 * 86_400_000);
    const periodEnd = new Date(periodStart.getTime() + 31 * 86_400_000);
    const paid = Math.floor(invoice.total * invoice.paidShare);
    await sql(
      `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency,
         total_cents, status, amount_paid_cents, issued_at, due_at, paid_at, voided_at)
       values (?, ?, ?, ?, ?, ?, ?, 'AUD', ?, ?, ?, ?, ?, ?, ?)`,
      [
        invoiceId,
        `INV-GEN-${serial}-${index}-${invoiceId.slice(-6)}`,
        tenantId,
        id,
        subscriptionId,
        periodStart.toISOString(),
        periodEnd.toISOString(),
        invoice.total,
        invoice.status,
        invoice.status === "paid" ? invoice.total : paid,
        invoice.issuedAt,
        new Date(new Date(invoice.issuedAt).getTime() + 7 * 86_400_000).toISOString(),
        invoice.status === "paid" ? (invoice.paidAt ?? invoice.issuedAt) : invoice.paidAt,
        invoice.voidedAt,
      ],
    );
    for (const [position, line] of invoice.lines.entries()) {
      await sql(
        `insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents,
           billable_ms, period_ms, amount_cents)
         values (?, ?, ?, ?, ?, ?, ?, ?, 2678400000, ?)`,
        [
          newId(),
          invoiceId,
          position,
          line.kind,
          line.description,
          s.version,
          line.unit,
          line.billable,
          line.amount,
        ],
      );
    }
  }
  return id;
}

/** The document as the presenters write it from the entities the ORM loads. */
async function presented(orm: Orm, principal: Principal, id: string): Promise<string> {
  const em = orm.em.fork();
  const deployment = await findVisibleDeployment(em, principal, id);
  const events = await em.find(DeploymentEvent, { deploymentId: id }, { orderBy: { sequence: "asc" } });
  const subscription = await loadSubscriptionDocument(em, id);
  return JSON.stringify(presentDeploymentDocument({ deployment, subscription, events }));
}

describe.each(testBackends({ pooled: true }))("the JSON reads on %s", (backend) => {
  let db: TestDatabase;
  let pooled: Orm;
  let t: TenantFixture;
  let other: TenantFixture;
  let versions: string[];
  const clock = new TestClock(new Date("2026-11-10T10:00:00.123Z"));
  const ids: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    // The same database pooled per transaction: the document then comes from the function.
    pooled = await connect({ url: db.url, pooling: "transaction", poolSize: 2 });
    t = await tenantFixture(db.orm, clock);
    other = await tenantFixture(db.orm, clock);
    // A plan version whose `includes` has keys of several lengths (jsonb orders them by length).
    const [plan] = await db.orm.em.getConnection().execute("select id from plans order by code limit 1");
    await db.orm.em.getConnection().execute(
      `insert into plan_versions (id, plan_id, version, price_cents, currency, trial_days, includes, created_at)
         values (?, ?, 99, 9007199254740, 'AUD', 0, ?, now())`,
      [newId(), plan!.id, JSON.stringify({ storage: "10.5", gpu: "1", compute: "123456789012.000001" })],
    );
    versions = (await db.orm.em.getConnection().execute("select id from plan_versions order by id")).map(
      (r) => r.id as string,
    );
  });
  afterAll(async () => {
    await pooled?.close(true);
    await db?.close();
  });

  it("builds the deployment document byte for byte as the presenters do", async () => {
    await fc.assert(
      fc.asyncProperty(fixture(versions), fc.boolean(), async (f, ours) => {
        const tenant = ours ? t : other;
        const id = await insert(db.orm, tenant.tenantId, f);
        ids.push(id);
        const expected = await presented(db.orm, operator, id);
        const direct = await readDeploymentDocumentJson(db.orm.em.fork(), tenant.viewer, id);
        expect(direct.text).toBe(expected);
        const viaFunction = await readDeploymentDocumentJson(pooled.em.fork(), operator, id);
        expect(viaFunction.text).toBe(expected);
        // Another tenant's document does not exist for this one.
        const stranger = ours ? other : t;
        await expect(readDeploymentDocumentJson(db.orm.em.fork(), stranger.viewer, id)).rejects.toMatchObject(
          {
            code: "NOT_FOUND",
          },
        );
      }),
      { numRuns: 40 },
    );
    for (const em of [db.orm.em.fork(), pooled.em.fork()]) {
      await expect(readDeploymentDocumentJson(em, operator, newId())).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      await expect(readDeploymentDocumentJson(em, operator, "not-a-uuid")).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    }
  });

  it("writes pages of deployments and invoices as the presenters do, under every filter and cursor", async () => {
    const ctx = () => testContext(db.orm, clock);
    const principals = [operator, t.viewer, other.admin];
    for (const principal of principals) {
      for (const limit of [1, 3, 50]) {
        for (const state of [undefined, "active" as const]) {
          for (const tenantId of [undefined, t.tenantId, "not-a-uuid"]) {
            let cursor: string | undefined;
            for (let pages = 0; pages < 60; pages++) {
              const query = { limit, state, tenantId, cursor };
              const expected = presentPage(await listDeployments(ctx(), principal, query), presentDeployment);
              const read = await listDeploymentsJson(ctx(), principal, query);
              expect(read.text).toBe(JSON.stringify(expected));
              if (!expected.nextCursor) break;
              cursor = expected.nextCursor;
            }
          }
        }
        for (const deploymentId of [undefined, ids[0]!, ids[1]!, "not-a-uuid"]) {
          let cursor: string | undefined;
          for (let pages = 0; pages < 60; pages++) {
            const query = { limit, deploymentId, cursor };
            const expected = presentPage(await listInvoices(ctx(), principal, query), presentInvoice);
            const read = await listInvoicesJson(ctx(), principal, query);
            expect(read.text).toBe(JSON.stringify(expected));
            if (!expected.nextCursor) break;
            cursor = expected.nextCursor;
          }
        }
      }
    }
    // A cursor naming no uuid is refused like any cursor this API did not write.
    const forged = Buffer.from(JSON.stringify([new Date().toISOString(), "x"])).toString("base64url");
    await expect(listDeploymentsJson(ctx(), operator, { cursor: forged })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await expect(listInvoicesJson(ctx(), operator, { cursor: forged })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });
});
