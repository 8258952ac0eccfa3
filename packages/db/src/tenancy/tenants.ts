import {
  createTenant as newTenant,
  type Principal,
  requirePlatformAdmin,
  Tenant,
  unwrap,
} from "@arcadia/domain";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";

export async function createTenant(
  ctx: UseCaseContext,
  principal: Principal,
  input: { slug: string; name: string; testClock?: { frozenAt: Date } | null },
): Promise<Tenant> {
  unwrap(requirePlatformAdmin(principal));
  const tenant = unwrap(newTenant({ id: ctx.newId(), ...input, now: ctx.clock.wallNow() }));
  await onUniqueViolation(
    () => ctx.em.transactional(async (em) => em.persist(tenant).flush()),
    "SLUG_TAKEN",
    `A tenant with slug ${input.slug} exists.`,
  );
  return tenant;
}

export async function listTenants(ctx: UseCaseContext, principal: Principal): Promise<Tenant[]> {
  unwrap(requirePlatformAdmin(principal));
  return ctx.em.find(Tenant, {}, { orderBy: { createdAt: "asc", id: "asc" } });
}
