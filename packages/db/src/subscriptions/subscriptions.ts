import {
  Addon,
  AddonAttachment,
  actorOf,
  attachAddon as attach,
  type ChangeEffective,
  changePlan as change,
  createSubscription,
  DomainError,
  detachAddon as detach,
  PlanChange,
  type Principal,
  requireWriter,
  Subscription,
  unwrap,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { resolvePlanVersion } from "../catalog/catalog.ts";
import {
  findVisibleDeployment,
  loadSubscriptionDocument,
  type SubscriptionDocument,
} from "../deployments/deployments.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";
import { lockSubscriptionOf } from "../shared/locks.ts";
import { isUuid, notFound } from "../shared/lookup.ts";

async function findAddon(em: EntityManager, code: string): Promise<Addon> {
  const addon = await em.findOne(Addon, { code });
  if (!addon) throw new DomainError("UNKNOWN_ADDON", `No add-on ${code}.`, { code });
  return addon;
}

/**
 * Locks the deployment, then its subscription (the same order transitions use), so plan and
 * add-on changes never interleave with a transition or with the worker closing the period.
 */
async function lockSubscription(
  em: EntityManager,
  principal: Principal,
  deploymentId: string,
): Promise<Subscription> {
  const deployment = await findVisibleDeployment(em, principal, deploymentId, true);
  unwrap(requireWriter(principal));
  const subscription = await lockSubscriptionOf(em, deployment.id);
  if (!subscription) throw notFound("Subscription");
  return subscription;
}

export interface SubscribeInput {
  readonly planCode: string;
  readonly planVersion?: number;
  readonly addons?: readonly { code: string }[];
}

export async function subscribe(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  input: SubscribeInput,
): Promise<SubscriptionDocument> {
  // The new rows are the document: it is returned as written, not read back.
  return onUniqueViolation(
    () =>
      ctx.em.transactional(async (em): Promise<SubscriptionDocument> => {
        const deployment = await findVisibleDeployment(em, principal, deploymentId, true);
        unwrap(requireWriter(principal));
        const existing = await em.count(Subscription, { deploymentId: deployment.id });
        const planVersion = await resolvePlanVersion(em, input.planCode, input.planVersion);
        const addons: Addon[] = [];
        for (const { code } of input.addons ?? []) addons.push(await findAddon(em, code));
        const now = ctx.now();
        const { subscription, planChange } = unwrap(
          createSubscription({
            id: ctx.newId(),
            planChangeId: ctx.newId(),
            deployment,
            planVersion,
            alreadySubscribed: existing > 0,
            actor: actorOf(principal),
            now,
          }),
        );
        const attachments = addons.map((addon) =>
          unwrap(attach(subscription, addon, { id: ctx.newId(), now })),
        );
        em.persist([subscription, planChange, ...attachments]);
        return { subscription, addons: attachments, planChanges: [planChange] };
      }),
    "ALREADY_SUBSCRIBED",
    "This deployment already has a subscription.",
    "subscriptions_deployment_unique",
  );
}

/** Attaches an add-on with its live terms snapshotted now. */
export async function attachAddon(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  code: string,
): Promise<AddonAttachment> {
  return ctx.em.transactional(async (em) => {
    const subscription = await lockSubscription(em, principal, deploymentId);
    const addon = await findAddon(em, code);
    const attachment = unwrap(attach(subscription, addon, { id: ctx.newId(), now: ctx.now() }));
    em.persist(attachment);
    return attachment;
  });
}

export async function detachAddon(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  attachmentId: string,
): Promise<AddonAttachment> {
  return ctx.em.transactional(async (em) => {
    const subscription = await lockSubscription(em, principal, deploymentId);
    const attachment = isUuid(attachmentId)
      ? await em.findOne(AddonAttachment, { id: attachmentId, subscriptionId: subscription.id })
      : null;
    if (!attachment) throw notFound("Add-on attachment");
    return unwrap(detach(attachment, ctx.now()));
  });
}

export async function changePlan(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  input: { planCode: string; planVersion?: number; effective: ChangeEffective },
): Promise<SubscriptionDocument> {
  await ctx.em.transactional(async (em) => {
    const subscription = await lockSubscription(em, principal, deploymentId);
    const target = await resolvePlanVersion(em, input.planCode, input.planVersion);
    const now = ctx.now();
    const scheduled = await em.find(PlanChange, {
      subscriptionId: subscription.id,
      supersededAt: null,
      effectiveAt: { $gt: now },
    });
    const planChange = unwrap(
      change(subscription, {
        id: ctx.newId(),
        target,
        effective: input.effective,
        actor: actorOf(principal),
        now,
        scheduled,
      }),
    );
    if (planChange) em.persist(planChange);
  });
  return (await loadSubscriptionDocument(ctx.em, deploymentId))!;
}
