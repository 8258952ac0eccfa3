import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeployment, transitionDeployment } from "./deployments/deployments.ts";
import { inTransaction } from "./shared/sql.ts";
import { subscribe } from "./subscriptions/subscriptions.ts";
import {
  createTestDatabase,
  TestClock,
  type TestDatabase,
  tenantFixture,
  testBackends,
  testContext,
} from "./testing/index.ts";

/**
 * The database enforces the invariants by itself: every write below bypasses the domain and must be
 * rejected by a constraint. Each runs in a transaction that is rolled back, so cases do not interact.
 */
describe.each(testBackends())("database constraints on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T00:00:00Z"));
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    const t = await tenantFixture(db.orm, clock);
    const ctx = () => testContext(db.orm, clock);
    const { deployment } = await createDeployment(ctx(), t.admin, {
      slug: "one",
      displayName: "One",
      region: "au-syd",
    });
    await transitionDeployment(ctx(), t.admin, deployment.id, { to: "paused" });
    const sub = await subscribe(ctx(), t.admin, deployment.id, {
      planCode: "studio",
      addons: [{ code: "storage_50gb" }],
    });
    const rows = await db.orm.em.getConnection().execute("select id from plan_versions limit 1");
    Object.assign(ids, {
      tenant: t.tenantId,
      deployment: deployment.id,
      subscription: sub.subscription.id,
      planVersion: rows[0]!.id,
    });
  });
  afterAll(() => db?.close());

  async function rejects(sql: (id: typeof ids) => string): Promise<string> {
    try {
      await inTransaction(db.orm.em.fork(), async (run) => {
        await run(sql(ids));
        throw new Error("ACCEPTED");
      });
    } catch (error) {
      return (error as { code?: string; message: string }).code ?? (error as Error).message;
    }
    return "ACCEPTED";
  }

  const cases: [string, string, (id: typeof ids) => string][] = [
    [
      "duplicate slug in a tenant",
      "23505",
      (id) =>
        `insert into deployments (id, tenant_id, slug, display_name, region, state, llm_mode, last_event_sequence, created_at, updated_at) values (gen_random_uuid(), '${id.tenant}', 'one', 'x', 'au-syd', 'active', 'shared', 1, now(), now())`,
    ],
    [
      "unknown deployment state",
      "23514",
      (id) => `update deployments set state = 'deleted' where id = '${id.deployment}'`,
    ],
    [
      "unknown llm mode",
      "23514",
      (id) => `update deployments set llm_mode = 'gpt' where id = '${id.deployment}'`,
    ],
    [
      "slug that is not a DNS label",
      "23514",
      (id) => `update deployments set slug = 'Not A Label' where id = '${id.deployment}'`,
    ],
    [
      "deployment of a missing tenant",
      "23503",
      () =>
        `insert into deployments (id, tenant_id, slug, display_name, region, state, llm_mode, last_event_sequence, created_at, updated_at) values (gen_random_uuid(), gen_random_uuid(), 'two', 'x', 'au-syd', 'active', 'shared', 1, now(), now())`,
    ],
    [
      "duplicate event sequence",
      "23505",
      (id) =>
        `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, occurred_at) values (gen_random_uuid(), '${id.deployment}', 2, 'active', 'paused', 'system', 'w', null, now())`,
    ],
    [
      "event with a zero sequence",
      "23514",
      (id) =>
        `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, occurred_at) values (gen_random_uuid(), '${id.deployment}', 0, null, 'active', 'system', 'w', null, now())`,
    ],
    [
      "later event without a from state",
      "23514",
      (id) =>
        `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, occurred_at) values (gen_random_uuid(), '${id.deployment}', 9, null, 'active', 'system', 'w', null, now())`,
    ],
    [
      "principal actor without a role",
      "23514",
      (id) =>
        `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, occurred_at) values (gen_random_uuid(), '${id.deployment}', 9, 'paused', 'active', 'principal', 'tok', null, now())`,
    ],
    [
      "event of a missing deployment",
      "23503",
      () =>
        `insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, occurred_at) values (gen_random_uuid(), gen_random_uuid(), 1, null, 'active', 'system', 'w', null, now())`,
    ],
    [
      "second subscription of a deployment",
      "23505",
      (id) =>
        `insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start, current_period_end, created_at, updated_at) values (gen_random_uuid(), '${id.deployment}', '${id.tenant}', '${id.planVersion}', 'active', '2026-11-01', '2026-12-01', now(), now())`,
    ],
    [
      "unknown subscription status",
      "23514",
      (id) => `update subscriptions set status = 'gone' where id = '${id.subscription}'`,
    ],
    [
      "cancelled without a cancellation instant",
      "23514",
      (id) => `update subscriptions set status = 'cancelled' where id = '${id.subscription}'`,
    ],
    [
      "empty period",
      "23514",
      (id) =>
        `update subscriptions set current_period_end = current_period_start where id = '${id.subscription}'`,
    ],
    [
      "negative plan price",
      "23514",
      (id) => `update plan_versions set price_cents = -1 where id = '${id.planVersion}'`,
    ],
    [
      "fractional money",
      "22P02",
      (id) => `update plan_versions set price_cents = '10.5' where id = '${id.planVersion}'`,
    ],
    [
      "lower-case currency",
      "23514",
      (id) => `update plan_versions set currency = 'aud' where id = '${id.planVersion}'`,
    ],
    [
      "duplicate plan version number",
      "23505",
      (id) =>
        `insert into plan_versions (id, plan_id, version, price_cents, currency, trial_days, includes, created_at) select gen_random_uuid(), plan_id, version, 1, 'AUD', 14, '{}', now() from plan_versions where id = '${id.planVersion}'`,
    ],
    [
      "duplicate plan code",
      "23505",
      () => `insert into plans (id, code, name, created_at) values (gen_random_uuid(), 'studio', 'x', now())`,
    ],
    [
      "duplicate add-on code",
      "23505",
      () =>
        `insert into addons (id, code, name, resource_kind, qty, price_cents, currency, created_at, updated_at) values (gen_random_uuid(), 'storage_50gb', 'x', 'storage', 1, 1, 'AUD', now(), now())`,
    ],
    ["zero add-on quantity", "23514", () => `update addons set qty = 0 where code = 'storage_50gb'`],
    [
      "attachment detached before attached",
      "23514",
      (id) =>
        `update subscription_addons set detached_at = attached_at - interval '1 second' where subscription_id = '${id.subscription}'`,
    ],
    [
      "unknown plan change kind",
      "23514",
      (id) =>
        `update subscription_plan_changes set kind = 'whenever' where subscription_id = '${id.subscription}'`,
    ],
    [
      "second invoice for one period",
      "23505",
      (id) =>
        `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-1', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-10-01', '2026-11-01', 'AUD', 0, 'open', now(), now()), (gen_random_uuid(), 'A-2', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-10-01', '2026-11-01', 'AUD', 0, 'open', now(), now())`,
    ],
    [
      "duplicate invoice number",
      "23505",
      (id) =>
        `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-1', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 0, 'open', now(), now()), (gen_random_uuid(), 'A-1', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-10-01', '2026-11-01', 'AUD', 0, 'open', now(), now())`,
    ],
    [
      "negative invoice total",
      "23514",
      (id) =>
        `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-3', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', -5, 'open', now(), now())`,
    ],
    [
      "unknown invoice status",
      "23514",
      (id) =>
        `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-4', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 0, 'paid?', now(), now())`,
    ],
    [
      "invoice line of a missing invoice",
      "23503",
      () =>
        `insert into statement_lines (id, statement_id, position, kind, description, ref_id, unit_price_cents, billable_ms, period_ms, amount_cents) values (gen_random_uuid(), gen_random_uuid(), 0, 'plan', 'x', gen_random_uuid(), 1, 1, 2, 1)`,
    ],
    [
      "platform token bound to a tenant",
      "23514",
      (id) =>
        `insert into api_tokens (id, tenant_id, role, name, secret_hash, created_at) values (gen_random_uuid(), '${id.tenant}', 'platform_admin', 'x', 'h1', now())`,
    ],
    [
      "tenant token without a tenant",
      "23514",
      () =>
        `insert into api_tokens (id, tenant_id, role, name, secret_hash, created_at) values (gen_random_uuid(), null, 'tenant_admin', 'x', 'h2', now())`,
    ],
    [
      "resource with zero quantity",
      "23514",
      (id) =>
        `insert into cloud_resources (id, deployment_id, tenant_id, kind, provider_ref, qty, created_at) values (gen_random_uuid(), '${id.deployment}', '${id.tenant}', 'storage', 'v', 0, now())`,
    ],
    [
      "invoice paid beyond its total",
      "23514",
      (id) =>
        `insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at, amount_paid_cents) values (gen_random_uuid(), 'A-5', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 100, 'open', now(), now(), 101)`,
    ],
    [
      "payment of zero",
      "23514",
      (id) =>
        `with s as (insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-6', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 100, 'open', now(), now()) returning id)
         insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, status, created_at) select gen_random_uuid(), s.id, '${id.tenant}', 0, 'AUD', 'manual', 'succeeded', now() from s`,
    ],
    [
      "second payment attempt with the same number",
      "23505",
      (id) =>
        `with s as (insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-7', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 100, 'open', now(), now()) returning id)
         insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, provider, status, attempt, created_at) select gen_random_uuid(), s.id, '${id.tenant}', 100, 'AUD', 'provider', 'sandbox', 'pending', 1, now() from s cross join generate_series(1, 2)`,
    ],
    [
      "provider attempt without a number",
      "23514",
      (id) =>
        `with s as (insert into statements (id, number, tenant_id, deployment_id, subscription_id, period_start, period_end, currency, total_cents, status, issued_at, due_at) values (gen_random_uuid(), 'A-8', '${id.tenant}', '${id.deployment}', '${id.subscription}', '2026-09-01', '2026-10-01', 'AUD', 100, 'open', now(), now()) returning id)
         insert into payments (id, invoice_id, tenant_id, amount_cents, currency, method, provider, status, created_at) select gen_random_uuid(), s.id, '${id.tenant}', 100, 'AUD', 'provider', 'sandbox', 'pending', now() from s`,
    ],
    [
      "duplicate idempotency key",
      "23505",
      () =>
        `insert into idempotency_keys (id, principal_id, key, request_hash, status_code, response_body, created_at) values (gen_random_uuid(), 'p', 'k', 'h', 201, '{}', now()), (gen_random_uuid(), 'p', 'k', 'h', 201, '{}', now())`,
    ],
  ];

  it.each(cases)("rejects %s (%s)", async (_name, sqlstate, sql) => {
    expect(await rejects(sql)).toBe(sqlstate);
  });

  it("accepts a valid write of the same shape (the harness can tell)", async () => {
    expect(await rejects(() => `update deployments set display_name = 'ok'`)).toBe("ACCEPTED");
  });
});
