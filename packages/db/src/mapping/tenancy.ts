import { ApiToken, ROLES, Tenant } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { instant } from "./types.ts";

export const TenantSchema = new EntitySchema<Tenant>({
  class: Tenant,
  tableName: "tenants",
  properties: {
    id: { type: "uuid", primary: true },
    slug: { type: "text", unique: "tenants_slug_unique" },
    name: { type: "text" },
    sandbox: { type: "boolean", default: false },
    clockFrozenAt: { ...instant, nullable: true },
    paymentTermsDays: { type: "integer", default: 7 },
    createdAt: { ...instant },
  },
  checks: [
    { name: "tenants_clock_check", expression: "sandbox = (clock_frozen_at is not null)" },
    {
      name: "tenants_payment_terms_check",
      expression: "payment_terms_days >= 0 and payment_terms_days <= 365",
    },
  ],
});

export const ApiTokenSchema = new EntitySchema<ApiToken>({
  class: ApiToken,
  tableName: "api_tokens",
  properties: {
    id: { type: "uuid", primary: true },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id", nullable: true },
    role: { type: "text", enum: true, items: () => ROLES as unknown as string[] },
    name: { type: "text" },
    secretHash: { type: "text", unique: "api_tokens_secret_hash_unique" },
    createdAt: { ...instant },
    revokedAt: { ...instant, nullable: true },
  },
  checks: [
    {
      name: "api_tokens_tenant_check",
      expression:
        "(role = 'platform_admin' and tenant_id is null) or (role <> 'platform_admin' and tenant_id is not null)",
    },
  ],
});
