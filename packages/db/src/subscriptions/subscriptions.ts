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
  type Subscription,
  unwrap,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { resolvePlanVersion, unknownPlan } from "../catalog/catalog.ts";
import { findVisibleDeployment, loadSubscriptionDocument } from "../deployments/deployments.ts";
import type { SubscriptionDocument } from "../deployments/document.ts";
import { LOCK_DEPLOYMENT } from "../deployments/queries.ts";
import { recordEvent } from "../events/outbox.ts";
import { addonFromRow, planVersionFromRow } from "../mapping/catalog.ts";
import { deploymentFromRow } from "../mapping/deployments.ts";
import { presentSubscription } from "../presenters/presenters.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";
import { lockSubscriptionOf } from "../shared/locks.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { inTransaction, type Row, type Sql } from "../shared/sql.ts";
import { INSERT_SUBSCRIPTION, SUBSCRIBE_LOOKUP } from "./queries.ts";

function unknownAddon(code: string): DomainError {
  return new DomainError("UNKNOWN_ADDON", `No add-on ${code}.`, { code });
}

async function findAddon(em: EntityManager, code: string): Promise<Addon> {
  const addon = await em.findOne(Addon, { code });
  if (!addon) throw unknownAddon(code);
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
  // A hot write, so plain SQL around the domain's rules (createSubscription, attachAddon): lock the
  // deployment, one lookup for everything the rules need, one query writing the subscription,
  // its initial plan change and the add-on snapshots. The new rows are the document: returned as
  // written, not read back.
  const codes = (input.addons ?? []).map((addon) => addon.code);
  return onUniqueViolation(
    () =>
      inTransaction(ctx.sqlEm, async (sql): Promise<SubscriptionDocument> => {
        const [row] = isUuid(deploymentId) ? await sql(LOCK_DEPLOYMENT, [deploymentId]) : [];
        const deployment = visible(row ? deploymentFromRow(row) : null, principal, "Deployment");
        unwrap(requireWriter(principal));
        const [found] = await sql<Row>(SUBSCRIBE_LOOKUP, [
          deployment.id,
          input.planCode,
          input.planVersion ?? null,
          codes,
        ]);
        const planVersion = planVersionFromRow(found!, "");
        if (!planVersion) throw unknownPlan(input.planCode, input.planVersion);
        const known = new Map((found!.addons as Row[]).map((a) => [a.code as string, addonFromRow(a)]));
        const addons = codes.map((code) => {
          const addon = known.get(code);
          if (!addon) throw unknownAddon(code);
          return addon;
        });
        const now = await ctx.clock.tenantNow(sql, deployment.tenantId);
        const { subscription, planChange } = unwrap(
          createSubscription({
            id: ctx.newId(),
            planChangeId: ctx.newId(),
            deployment,
            planVersion,
            alreadySubscribed: Boolean(found!.already_subscribed),
            actor: actorOf(principal),
            now,
          }),
        );
        const attachments = addons.map((addon) =>
          unwrap(attach(subscription, addon, { id: ctx.newId(), now })),
        );
        await insertSubscription(sql, subscription, planChange, attachments);
        const document = { subscription, addons: attachments, planChanges: [planChange] };
        await recordEvent(sql, {
          type: "subscription.created",
          tenantId: subscription.tenantId,
          occurredAt: now,
          data: presentSubscription(document),
        });
        return document;
      }),
    "ALREADY_SUBSCRIBED",
    "This deployment already has a subscription.",
    "subscriptions_deployment_unique",
  );
}

/** The subscription, its initial plan change and its add-on snapshots, in one query. */
async function insertSubscription(
  sql: Sql,
  s: Subscription,
  c: PlanChange,
  attachments: readonly AddonAttachment[],
): Promise<void> {
  const column = <K extends keyof AddonAttachment>(key: K) => attachments.map((a) => a[key]);
  await sql(INSERT_SUBSCRIPTION, [
    s.id,
    s.deploymentId,
    s.tenantId,
    s.planVersion.id,
    s.status,
    s.currentPeriodStart,
    s.currentPeriodEnd,
    s.trialEndsAt,
    s.pendingPlanVersion?.id ?? null,
    s.cancelledAt,
    s.endedAt,
    s.createdAt,
    s.updatedAt,
    c.id,
    c.fromPlanVersion?.id ?? null,
    c.toPlanVersion.id,
    c.kind,
    c.requestedAt,
    c.effectiveAt,
    c.actorType,
    c.actorId,
    c.actorRole,
    c.supersededAt,
    column("id"),
    column("addonCode"),
    column("resourceKind"),
    column("qty"),
    column("priceCents").map(String),
    column("currency"),
    column("attachedAt"),
    column("detachedAt"),
    c.sequence,
  ]);
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
    const now = await ctx.clock.tenantNow(em, subscription.tenantId);
    const attachment = unwrap(attach(subscription, addon, { id: ctx.newId(), now }));
    em.persist(attachment);
    await recordSubscriptionEvent(em, subscription, "subscription.addon_attached", now);
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
    const now = await ctx.clock.tenantNow(em, subscription.tenantId);
    const detached = unwrap(detach(attachment, now));
    await recordSubscriptionEvent(em, subscription, "subscription.addon_detached", now);
    return detached;
  });
}

export async function changePlan(
  ctx: UseCaseContext,
  principal: Principal,
  deploymentId: string,
  input: { planCode: string; planVersion?: number; effective: ChangeEffective },
): Promise<SubscriptionDocument> {
  return ctx.em.transactional(async (em) => {
    const subscription = await lockSubscription(em, principal, deploymentId);
    const target = await resolvePlanVersion(em, input.planCode, input.planVersion);
    const now = await ctx.clock.tenantNow(em, subscription.tenantId);
    const scheduled = await em.find(PlanChange, {
      subscriptionId: subscription.id,
      supersededAt: null,
      effectiveAt: { $gt: now },
    });
    // Under the subscription's lock, so the next sequence is this change's alone (and the unique
    // (subscription_id, sequence) constraint is the backstop).
    const [last] = await em.execute<{ n: number }[]>(
      "select coalesce(max(sequence), 0)::int as n from subscription_plan_changes where subscription_id = ?",
      [subscription.id],
    );
    const planChange = unwrap(
      change(subscription, {
        id: ctx.newId(),
        target,
        effective: input.effective,
        actor: actorOf(principal),
        now,
        scheduled,
        lastSequence: last?.n ?? 0,
      }),
    );
    if (planChange) em.persist(planChange);
    return recordSubscriptionEvent(em, subscription, "subscription.plan_changed", now);
  });
}

/**
 * Writes the change so far and records its event with the subscription as the API now shows it
 * (plan version, add-ons, plan history), in the change's transaction. Answers that document.
 */
async function recordSubscriptionEvent(
  em: EntityManager,
  subscription: Subscription,
  type: "subscription.addon_attached" | "subscription.addon_detached" | "subscription.plan_changed",
  now: Date,
): Promise<SubscriptionDocument> {
  await em.flush();
  const document = (await loadSubscriptionDocument(em, subscription.deploymentId))!;
  await recordEvent(em, {
    type,
    tenantId: subscription.tenantId,
    occurredAt: now,
    data: presentSubscription(document),
  });
  return document;
}
