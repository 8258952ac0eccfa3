import { randomBytes } from "node:crypto";
import { DomainError, type Principal } from "@arcadia/domain";
import type { Orm } from "../orm.ts";
import { createTenant } from "../tenancy/tenants.ts";
import { type TestClock, testContext } from "./test-database.ts";

export const operator: Principal = {
  id: "00000000-0000-4000-8000-000000000001",
  role: "platform_admin",
  tenantId: null,
};

export interface TenantFixture {
  readonly tenantId: string;
  readonly admin: Principal;
  readonly viewer: Principal;
}

/**
 * A tenant with principals of both tenant roles (principals only; tokens are tested on their own);
 * with `testClock`, a sandbox whose clock starts there.
 */
export async function tenantFixture(
  orm: Orm,
  clock: TestClock,
  options: { testClock?: Date } = {},
): Promise<TenantFixture> {
  const slug = `t-${randomBytes(4).toString("hex")}`;
  const tenant = await createTenant(testContext(orm, clock), operator, {
    slug,
    name: `Tenant ${slug}`,
    testClock: options.testClock ? { frozenAt: options.testClock } : null,
  });
  return {
    tenantId: tenant.id,
    admin: { id: `${tenant.id.slice(0, 8)}-admin`, role: "tenant_admin", tenantId: tenant.id },
    viewer: { id: `${tenant.id.slice(0, 8)}-viewer`, role: "tenant_viewer", tenantId: tenant.id },
  };
}

/** "ok" when the promise resolves, else the DomainError's code (anything else is rethrown). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}
