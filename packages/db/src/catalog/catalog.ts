import {
  Addon,
  type AddonInput,
  type AddonPatch,
  DomainError,
  createAddon as newAddon,
  createPlan as newPlan,
  publishPlanVersion as nextVersion,
  Plan,
  PlanVersion,
  type PlanVersionInput,
  type Principal,
  updateAddon as patchAddon,
  requirePlatformAdmin,
  unwrap,
} from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";

export interface PlanWithVersions {
  readonly plan: Plan;
  /** Oldest first; the last is the current version. */
  readonly versions: PlanVersion[];
}

function group(plans: Plan[], versions: PlanVersion[]): PlanWithVersions[] {
  return plans.map((plan) => ({
    plan,
    versions: versions.filter((v) => v.plan.id === plan.id).sort((a, b) => a.version - b.version),
  }));
}

export async function listPlans(ctx: UseCaseContext): Promise<PlanWithVersions[]> {
  const plans = await ctx.em.find(Plan, {}, { orderBy: { code: "asc" } });
  const versions = await ctx.em.find(PlanVersion, { plan: { $in: plans.map((p) => p.id) } });
  return group(plans, versions);
}

export async function getPlan(ctx: UseCaseContext, code: string): Promise<PlanWithVersions> {
  const plan = await ctx.em.findOne(Plan, { code });
  if (!plan) throw new DomainError("NOT_FOUND", `Plan ${code} not found.`);
  const versions = await ctx.em.find(PlanVersion, { plan: plan.id });
  return group([plan], versions)[0]!;
}

/** The version of a plan a subscription asks for: the named one, else the current (highest). */
export async function resolvePlanVersion(
  em: EntityManager,
  planCode: string,
  version?: number,
): Promise<PlanVersion> {
  const found = await em.findOne(
    PlanVersion,
    version === undefined ? { plan: { code: planCode } } : { plan: { code: planCode }, version },
    { orderBy: { version: "desc" } },
  );
  if (!found) throw unknownPlan(planCode, version);
  return found;
}

export function unknownPlan(planCode: string, version?: number): DomainError {
  return new DomainError(
    "UNKNOWN_PLAN",
    `No plan ${planCode}${version === undefined ? "" : ` version ${version}`}.`,
    {
      planCode,
      ...(version === undefined ? {} : { planVersion: version }),
    },
  );
}

/** Creates a plan with its first version. */
export async function createPlan(
  ctx: UseCaseContext,
  principal: Principal,
  input: { code: string; name: string } & PlanVersionInput,
): Promise<PlanWithVersions> {
  unwrap(requirePlatformAdmin(principal));
  const now = ctx.clock.wallNow();
  const plan = unwrap(newPlan({ id: ctx.newId(), code: input.code, name: input.name, now }));
  const version = unwrap(nextVersion(plan, 0, { ...input, id: ctx.newId(), now }));
  await onUniqueViolation(
    () => ctx.em.transactional(async (em) => em.persist([plan, version]).flush()),
    "CONFLICT",
    `A plan with code ${input.code} exists.`,
  );
  return { plan, versions: [version] };
}

/** Publishes the next immutable version of a plan; the plan row is locked so numbers never collide. */
export async function publishPlanVersion(
  ctx: UseCaseContext,
  principal: Principal,
  code: string,
  input: PlanVersionInput,
): Promise<PlanWithVersions> {
  unwrap(requirePlatformAdmin(principal));
  await ctx.em.transactional(async (em) => {
    const plan = await em.findOne(Plan, { code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!plan) throw new DomainError("NOT_FOUND", `Plan ${code} not found.`);
    const latest = await em.findOne(PlanVersion, { plan: plan.id }, { orderBy: { version: "desc" } });
    em.persist(
      unwrap(
        nextVersion(plan, latest?.version ?? 0, { ...input, id: ctx.newId(), now: ctx.clock.wallNow() }),
      ),
    );
  });
  return getPlan(ctx, code);
}

export async function listAddons(ctx: UseCaseContext): Promise<Addon[]> {
  return ctx.em.find(Addon, {}, { orderBy: { code: "asc" } });
}

export async function createAddon(
  ctx: UseCaseContext,
  principal: Principal,
  input: AddonInput,
): Promise<Addon> {
  unwrap(requirePlatformAdmin(principal));
  const addon = unwrap(newAddon({ ...input, id: ctx.newId(), now: ctx.clock.wallNow() }));
  await onUniqueViolation(
    () => ctx.em.transactional(async (em) => em.persist(addon).flush()),
    "CONFLICT",
    `An add-on with code ${input.code} exists.`,
  );
  return addon;
}

/** Changes the live add-on; attachments keep their snapshots. */
export async function updateAddon(
  ctx: UseCaseContext,
  principal: Principal,
  code: string,
  patch: AddonPatch,
): Promise<Addon> {
  unwrap(requirePlatformAdmin(principal));
  return ctx.em.transactional(async (em) => {
    const addon = await em.findOne(Addon, { code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!addon) throw new DomainError("NOT_FOUND", `Add-on ${code} not found.`);
    return unwrap(patchAddon(addon, patch, ctx.clock.wallNow()));
  });
}
