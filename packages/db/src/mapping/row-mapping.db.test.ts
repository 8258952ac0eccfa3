import {
  Addon,
  AddonAttachment,
  DEFAULT_DUNNING_POLICY,
  Deployment,
  DeploymentEvent,
  Invoice,
  InvoiceLine,
  Payment,
  PlanChange,
  type PlanVersion,
  Subscription,
  TenantDunningPolicy,
} from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRolloverPass } from "../billing/rollover.ts";
import { createAddon } from "../catalog/catalog.ts";
import { runCollectionPass } from "../collection/collection-pass.ts";
import { recordManualPayment } from "../collection/payments.ts";
import { defaultPaymentProviders } from "../collection/sandbox-provider.ts";
import { setDunningPolicy, setPaymentMethod } from "../collection/tenant-settings.ts";
import { createDeployment, transitionDeployment } from "../deployments/deployments.ts";
import { withConnection } from "../shared/sql.ts";
import { attachAddon, changePlan, detachAddon, subscribe } from "../subscriptions/subscriptions.ts";
import {
  createTestDatabase,
  operator,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { INVOICE_COLUMNS, INVOICE_LINE_COLUMNS, invoiceFromRow, lineFromRow } from "./billing.ts";
import { ADDON_JSON, addonFromRow, VERSION_COLUMNS } from "./catalog.ts";
import { PAYMENT_COLUMNS, POLICY_COLUMNS, paymentFromRow, policyFromRow } from "./collection.ts";
import {
  DEPLOYMENT_COLUMNS,
  DEPLOYMENT_EVENT_COLUMNS,
  DeploymentSchema,
  deploymentEventFromRow,
  deploymentFromRow,
} from "./deployments.ts";
import { EVENT_COLUMNS, EventRecord, eventFromRow } from "./events.ts";
import { rowMapping } from "./row-mapping.ts";
import {
  ADDON_ATTACHMENT_COLUMNS,
  ADDON_ATTACHMENT_JSON,
  addonAttachmentFromRow,
  PLAN_CHANGE_COLUMNS,
  planChangeFromRow,
  SUBSCRIPTION_COLUMNS,
  subscriptionFromRow,
} from "./subscriptions.ts";

// Each table's row function is derived from its EntitySchema (row-mapping.ts). Here every row of a
// database the use cases filled (nulls and non-nulls in every nullable column, decimals and amounts
// no JSON number carries, both payment methods) is read twice — by the ORM, which hydrates through
// the schema, and by plain SQL over the derived column list and row function — and must come out
// the same, as the same class.
describe.each(testBackends())("row functions derived from the EntitySchemas on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-01T00:00:00.123Z"));
  const ctx = () => testContext(db.orm, clock);

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    const providers = defaultPaymentProviders(db.orm);
    await createAddon(ctx(), operator, {
      code: "precise_rows",
      name: "Precise",
      resourceKind: "storage",
      qty: "123456789012345678.123457",
      priceCents: 9007199254740,
    });
    for (const token of ["tok_declined", "tok_lost_card", null] as const) {
      const t = await tenantFixture(db.orm, clock);
      if (token)
        await setPaymentMethod(ctx(), operator, t.tenantId, { provider: "sandbox", token }, providers);
      else {
        await setDunningPolicy(ctx(), operator, t.tenantId, {
          retryAfterDays: [2, 4],
          pastDueAfterDays: 1,
          suspendAfterDays: 5,
          cancelAfterDays: 10,
          archiveAfterDays: 20,
        });
      }
      const { deployment } = await createDeployment(ctx(), t.admin, {
        slug: `rows-${token ?? "manual"}`.replaceAll("_", "-"),
        displayName: "Rows",
        region: "au-syd",
        trial: token === null,
      });
      await subscribe(ctx(), t.admin, deployment.id, {
        planCode: "studio",
        addons: [{ code: "storage_50gb" }, { code: "precise_rows" }],
      });
      clock.advance(1000);
      const attachment = await attachAddon(ctx(), t.admin, deployment.id, "compute_2vcpu");
      clock.advance(1000);
      await detachAddon(ctx(), t.admin, deployment.id, attachment.id);
      if (token === null)
        await transitionDeployment(ctx(), t.admin, deployment.id, { to: "active", reason: "go" });
      await changePlan(ctx(), t.admin, deployment.id, { planCode: "scale", effective: "period_end" });
      clock.advance(1000);
      await changePlan(ctx(), t.admin, deployment.id, { planCode: "hobby", effective: "period_end" });
    }
    const now = new Date("2026-12-01T00:00:00Z");
    clock.set(now);
    await runRolloverPass(db.orm, { now });
    await runCollectionPass(db.orm, { now, providers });
    const [open] = await withConnection(db.orm.em, (sql) =>
      sql<{ id: string }>(
        "select id from statements where status = 'open' and total_cents > 0 order by id limit 1",
      ),
    );
    await recordManualPayment(ctx(), operator, open!.id, { amountCents: 1, reference: "bank 1" });
  });
  afterAll(() => db?.close());

  /** The ORM's entities of `entity` and the rows `query` reads through `fromRow`, both by id. */
  async function both<T extends { id: string }>(
    entity: new (props: never) => T,
    query: string,
    fromRow: (row: Record<string, unknown>) => T,
  ) {
    const em = db.orm.em.fork();
    const loaded = (await em.find(entity, {})) as T[];
    const rows = await withConnection(db.orm.em, (sql) => sql(query));
    const read = rows.map(fromRow);
    const byId = (a: T, b: T) => a.id.localeCompare(b.id);
    return { loaded: loaded.sort(byId), read: read.sort(byId) };
  }

  const cases: [
    string,
    new (props: never) => { id: string },
    string,
    (row: Record<string, unknown>) => { id: string },
  ][] = [
    ["deployments", Deployment, `select ${DEPLOYMENT_COLUMNS("d")} from deployments d`, deploymentFromRow],
    [
      "deployment_events",
      DeploymentEvent,
      `select ${DEPLOYMENT_EVENT_COLUMNS("e")} from deployment_events e`,
      deploymentEventFromRow,
    ],
    [
      "subscriptions",
      Subscription,
      `select ${SUBSCRIPTION_COLUMNS("s")}, ${VERSION_COLUMNS("v", "p", "v_")}, ${VERSION_COLUMNS("pv", "pp", "pv_")}
         from subscriptions s
         join plan_versions v on v.id = s.plan_version_id join plans p on p.id = v.plan_id
         left join plan_versions pv on pv.id = s.pending_plan_version_id left join plans pp on pp.id = pv.plan_id`,
      (row) => subscriptionFromRow(row),
    ],
    [
      "subscription_plan_changes",
      PlanChange,
      `select ${PLAN_CHANGE_COLUMNS("c")}, ${VERSION_COLUMNS("f", "fp", "f_")}, ${VERSION_COLUMNS("t", "tp", "t_")}
         from subscription_plan_changes c
         left join plan_versions f on f.id = c.from_plan_version_id left join plans fp on fp.id = f.plan_id
         join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id`,
      (row) => planChangeFromRow(row),
    ],
    [
      "subscription_addons",
      AddonAttachment,
      `select ${ADDON_ATTACHMENT_COLUMNS("a")} from subscription_addons a`,
      addonAttachmentFromRow,
    ],
    // The same rows as JSON objects the database built (as the document query reads them).
    [
      "subscription_addons as JSON",
      AddonAttachment,
      `select json_build_object(${ADDON_ATTACHMENT_JSON}) as j from subscription_addons a`,
      (row) => addonAttachmentFromRow(row.j as Record<string, unknown>),
    ],
    [
      "addons as JSON",
      Addon,
      `select json_build_object(${ADDON_JSON}) as j from addons a`,
      (row) => addonFromRow(row.j as Record<string, unknown>),
    ],
    ["statements", Invoice, `select ${INVOICE_COLUMNS("s")} from statements s`, invoiceFromRow],
    ["statement_lines", InvoiceLine, `select ${INVOICE_LINE_COLUMNS} from statement_lines`, lineFromRow],
    ["payments", Payment, `select ${PAYMENT_COLUMNS} from payments`, paymentFromRow],
  ];

  it.each(cases)("%s: the row function reads what the ORM loads", async (_table, entity, query, fromRow) => {
    const { loaded, read } = await both(entity, query, fromRow);
    expect(read.length).toBeGreaterThan(0);
    expect(read).toEqual(loaded);
    for (const [i, object] of read.entries()) {
      expect(object).toBeInstanceOf(entity);
      // Every property the ORM sets, and no other.
      expect(Object.keys(object).sort()).toEqual(Object.keys(loaded[i]!).sort());
    }
  });

  it("covers both sides of every nullable column it reads", async () => {
    const { read: payments } = await both(Payment, `select ${PAYMENT_COLUMNS} from payments`, paymentFromRow);
    expect(new Set(payments.map((p) => p.method))).toEqual(new Set(["manual", "provider"]));
    expect(new Set(payments.map((p) => p.retryable))).toEqual(new Set([null, true, false]));
    const { read: changes } = await both(
      PlanChange,
      `select ${PLAN_CHANGE_COLUMNS("c")}, ${VERSION_COLUMNS("f", "fp", "f_")}, ${VERSION_COLUMNS("t", "tp", "t_")}
         from subscription_plan_changes c
         left join plan_versions f on f.id = c.from_plan_version_id left join plans fp on fp.id = f.plan_id
         join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id`,
      (row) => planChangeFromRow(row, new Map<string, PlanVersion>()),
    );
    expect(changes.some((c) => c.fromPlanVersion === null && c.supersededAt === null)).toBe(true);
    expect(changes.some((c) => c.fromPlanVersion !== null && c.supersededAt !== null)).toBe(true);
    const { read: addons } = await both(
      AddonAttachment,
      `select ${ADDON_ATTACHMENT_COLUMNS("a")} from subscription_addons a`,
      addonAttachmentFromRow,
    );
    expect(new Set(addons.map((a) => a.detachedAt === null))).toEqual(new Set([true, false]));
    expect(addons.some((a) => a.qty === "123456789012345678.123457" && a.priceCents === 9007199254740)).toBe(
      true,
    );
  });

  it("reads the policy and the event record's fields as the ORM loads them", async () => {
    const em = db.orm.em.fork();
    const [policy] = await em.find(TenantDunningPolicy, {});
    const [row] = await withConnection(db.orm.em, (sql) =>
      sql(`select ${POLICY_COLUMNS("p")} from dunning_policies p where p.tenant_id = $1`, [policy!.tenantId]),
    );
    const { tenantId: _tenant, updatedAt: _updated, ...terms } = policy!;
    expect(policyFromRow(row)).toEqual(terms);
    expect(policyFromRow(undefined)).toBe(DEFAULT_DUNNING_POLICY);
    const records = await em.find(EventRecord, {}, { orderBy: { position: "asc" } });
    const rows = await withConnection(db.orm.em, (sql) =>
      sql(`select ${EVENT_COLUMNS("e")} from events e order by e.position`),
    );
    expect(rows.map(eventFromRow)).toEqual(
      records.map(({ id, type, tenantId, occurredAt, data }) => ({ id, type, tenantId, occurredAt, data })),
    );
  });

  it("refuses a mapping that does not name the schema's object relations, or another class", () => {
    expect(() => rowMapping(DeploymentSchema, Deployment, ["tenantId"])).toThrow(/object relations are none/);
    expect(() => rowMapping(DeploymentSchema, Addon as never)).toThrow(/is not mapped to Addon/);
  });
});
