import {
  AddonAttachment,
  CloudResource,
  type Entitlement,
  entitlementsOf,
  type Principal,
  registerResource as register,
  releaseResource as release,
  requirePlatformAdmin,
  Subscription,
  unwrap,
} from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import { findVisibleDeployment } from "../deployments/deployments.ts";
import { recordEvent } from "../events/outbox.ts";
import { presentResource } from "../presenters/presenters.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound } from "../shared/lookup.ts";

export async function listResources(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
): Promise<CloudResource[]> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  return ctx.em.find(
    CloudResource,
    { deploymentId: deployment.id },
    { orderBy: { createdAt: "asc", id: "asc" } },
  );
}

export async function registerResource(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  input: { kind: string; providerRef: string; qty: string },
): Promise<CloudResource> {
  return ctx.em.transactional(async (em) => {
    const deployment = await findVisibleDeployment(em, principal, deploymentId);
    unwrap(requirePlatformAdmin(principal));
    const now = await ctx.clock.tenantNow(em, deployment.tenantId);
    const resource = unwrap(register({ ...input, id: ctx.newId(), deployment, now }));
    em.persist(resource);
    await recordEvent(em, {
      type: "resource.registered",
      tenantId: resource.tenantId,
      occurredAt: now,
      data: presentResource(resource),
    });
    return resource;
  });
}

export async function releaseResource(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  resourceId: string,
): Promise<CloudResource> {
  return ctx.em.transactional(async (em) => {
    const deployment = await findVisibleDeployment(em, principal, deploymentId);
    unwrap(requirePlatformAdmin(principal));
    const resource = isUuid(resourceId)
      ? await em.findOne(
          CloudResource,
          { id: resourceId, deploymentId: deployment.id },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        )
      : null;
    if (!resource) throw notFound("Resource");
    const now = await ctx.clock.tenantNow(em, deployment.tenantId);
    const released = unwrap(release(resource, now));
    await recordEvent(em, {
      type: "resource.released",
      tenantId: released.tenantId,
      occurredAt: now,
      data: presentResource(released),
    });
    return released;
  });
}

export async function entitlements(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
): Promise<Entitlement[]> {
  const deployment = await findVisibleDeployment(ctx.em, principal, deploymentId);
  const subscription = await ctx.em.findOne(Subscription, { deploymentId: deployment.id });
  const [attachments, resources] = await Promise.all([
    subscription ? ctx.em.find(AddonAttachment, { subscriptionId: subscription.id, detachedAt: null }) : [],
    ctx.em.find(CloudResource, { deploymentId: deployment.id, releasedAt: null }),
  ]);
  return entitlementsOf({ includes: subscription?.planVersion.includes ?? {}, attachments, resources });
}
