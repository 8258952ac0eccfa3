import {
  DomainError,
  type DunningPolicy,
  PaymentMethod,
  type Principal,
  updateTenant as patchTenant,
  requirePlatformAdmin,
  Tenant,
  type TenantPatch,
  unwrap,
  validateDunningPolicy,
  validatePaymentMethod,
} from "@arcadia/domain";
import { POLICY_COLUMNS, policyFromRow } from "../mapping/collection.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound } from "../shared/lookup.ts";
import { inTransaction, type Sql, withConnection } from "../shared/sql.ts";
import type { PaymentProviders } from "./sandbox-provider.ts";

/** A tenant's admins and platform admins: another tenant's is NOT_FOUND, a viewer FORBIDDEN. */
function checkTenantAdmin(principal: Principal, tenantId: string): void {
  if (principal.role !== "platform_admin" && principal.tenantId !== tenantId) throw notFound("Tenant");
  if (principal.role === "tenant_viewer") throw new DomainError("FORBIDDEN", "This token is read-only.");
}

async function existingTenant(sql: Sql, principal: Principal, tenantId: string): Promise<void> {
  if (!isUuid(tenantId)) throw notFound("Tenant");
  checkTenantAdmin(principal, tenantId);
  const [row] = await sql("select id from tenants where id = $1", [tenantId]);
  if (!row) throw notFound("Tenant");
}

/** Collection looks again now at every deployment of the tenant with something to collect. */
async function rescheduleTenant(sql: Sql, tenantId: string, now: Date): Promise<void> {
  await sql(
    `insert into collection_schedule (deployment_id, due_at)
     select d.id, $2 from deployments d
      where d.tenant_id = $1 and d.state <> 'archived'
        and (d.state = 'cancelled' or exists (select 1 from statements s where s.deployment_id = d.id and s.status = 'open'))
      order by d.id
     on conflict (deployment_id) do update set due_at = least(collection_schedule.due_at, excluded.due_at)`,
    [tenantId, now],
  );
}

export async function getTenant(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
): Promise<Tenant> {
  if (!isUuid(tenantId)) throw notFound("Tenant");
  checkTenantAdmin(principal, tenantId);
  const tenant = await ctx.em.findOne(Tenant, { id: tenantId });
  if (!tenant) throw notFound("Tenant");
  return tenant;
}

/** Name and payment terms (platform admins); new terms apply to invoices issued from now on. */
export async function updateTenant(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
  patch: TenantPatch,
): Promise<Tenant> {
  return ctx.em.transactional(async (em) => {
    if (!isUuid(tenantId)) throw notFound("Tenant");
    checkTenantAdmin(principal, tenantId);
    unwrap(requirePlatformAdmin(principal));
    const tenant = await em.findOne(Tenant, { id: tenantId });
    if (!tenant) throw notFound("Tenant");
    return unwrap(patchTenant(tenant, patch));
  });
}

export interface PaymentMethodView {
  readonly tenantId: string;
  readonly provider: string;
  readonly tokenLast4: string;
  readonly createdAt: Date;
}

/** Sets (replaces) the tenant's payment method; collection looks again at what it owes. */
export async function setPaymentMethod(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
  input: { provider: string; token: string },
  providers: PaymentProviders,
): Promise<PaymentMethod> {
  return inTransaction(ctx.sqlEm, async (sql) => {
    await existingTenant(sql, principal, tenantId);
    const valid = unwrap(validatePaymentMethod(input, [...providers.values()]));
    const now = await ctx.clock.tenantNow(sql, tenantId);
    const method = new PaymentMethod({ id: ctx.newId(), tenantId, ...valid, createdAt: now });
    await sql(
      `insert into payment_methods (tenant_id, id, provider, token, created_at) values ($1, $2, $3, $4, $5)
       on conflict (tenant_id) do update set id = excluded.id, provider = excluded.provider, token = excluded.token, created_at = excluded.created_at`,
      [tenantId, method.id, method.provider, method.token, now],
    );
    await rescheduleTenant(sql, tenantId, now);
    return method;
  });
}

export async function removePaymentMethod(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
): Promise<PaymentMethod> {
  return inTransaction(ctx.sqlEm, async (sql) => {
    await existingTenant(sql, principal, tenantId);
    const [row] = await sql<{ id: string; provider: string; token: string; created_at: Date }>(
      "delete from payment_methods where tenant_id = $1 returning id, provider, token, created_at",
      [tenantId],
    );
    if (!row) throw notFound("Payment method");
    await rescheduleTenant(sql, tenantId, await ctx.clock.tenantNow(sql, tenantId));
    return new PaymentMethod({
      id: row.id,
      tenantId,
      provider: row.provider,
      token: row.token,
      createdAt: new Date(row.created_at),
    });
  });
}

export async function getDunningPolicy(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
): Promise<DunningPolicy> {
  return withConnection(ctx.sqlEm, async (sql) => {
    await existingTenant(sql, principal, tenantId);
    const [row] = await sql(`select ${POLICY_COLUMNS("p")} from dunning_policies p where p.tenant_id = $1`, [
      tenantId,
    ]);
    return policyFromRow(row);
  });
}

/** Sets the tenant's policy (platform admins); collection re-plans the tenant's deployments now. */
export async function setDunningPolicy(
  ctx: UseCaseContext,
  principal: Principal,
  tenantId: string,
  policy: DunningPolicy,
): Promise<DunningPolicy> {
  return inTransaction(ctx.sqlEm, async (sql) => {
    await existingTenant(sql, principal, tenantId);
    unwrap(requirePlatformAdmin(principal));
    const valid = unwrap(validateDunningPolicy(policy));
    const now = await ctx.clock.tenantNow(sql, tenantId);
    await sql(
      `insert into dunning_policies (tenant_id, retry_after_days, past_due_after_days, suspend_after_days, cancel_after_days, archive_after_days, updated_at)
       values ($1, $2::jsonb, $3, $4, $5, $6, $7)
       on conflict (tenant_id) do update set retry_after_days = excluded.retry_after_days, past_due_after_days = excluded.past_due_after_days,
         suspend_after_days = excluded.suspend_after_days, cancel_after_days = excluded.cancel_after_days,
         archive_after_days = excluded.archive_after_days, updated_at = excluded.updated_at`,
      [
        tenantId,
        JSON.stringify(valid.retryAfterDays),
        valid.pastDueAfterDays,
        valid.suspendAfterDays,
        valid.cancelAfterDays,
        valid.archiveAfterDays,
        now,
      ],
    );
    await rescheduleTenant(sql, tenantId, now);
    return valid;
  });
}
