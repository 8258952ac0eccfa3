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
  normalizeDecimal,
  PlanChange,
  type Principal,
  requireWriter,
  type Subscription,
  unwrap,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { resolvePlanVersion, unknownPlan } from "../catalog/catalog.ts";
import {
  findVisibleDeployment,
  loadSubscriptionDocument,
  type SubscriptionDocument,
} from "../deployments/deployments.ts";
import {
  deploymentFromRow,
  planVersionFromRow,
  VERSION_COLUMNS,
} from "../deployments/document-read-model.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";
import { lockSubscriptionOf } from "../shared/locks.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { instant, inTransaction, type Row, type Sql } from "../shared/sql.ts";

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
  // A hot write, so plain SQL around the domain's rules (createSubscription, attachAddon): lock the
  // deployment, one lookup for everything the rules need, one statement writing the subscription,
  // its initial plan change and the add-on snapshots. The new rows are the document: returned as
  // written, not read back.
  const codes = (input.addons ?? []).map((addon) => addon.code);
  return onUniqueViolation(
    () =>
      inTransaction(ctx.em, async (sql): Promise<SubscriptionDocument> => {
        const [row] = isUuid(deploymentId)
          ? await sql("select * from deployments where id = $1 for update", [deploymentId])
          : [];
        const deployment = visible(row ? deploymentFromRow(row) : null, principal, "Deployment");
        unwrap(requireWriter(principal));
        const [found] = await sql<Row>(
          `select exists (select 1 from subscriptions where deployment_id = $1) as already_subscribed,
                  (select coalesce(json_agg(json_build_object(${ADDON_JSON})), '[]'::json)
                     from addons a where a.code = any($4::text[])) as addons,
                  chosen.*
             from (select 1) one
             left join lateral (
               select ${VERSION_COLUMNS("v", "p", "")}
                 from plan_versions v join plans p on p.id = v.plan_id
                where p.code = $2 and ($3::int is null or v.version = $3)
                order by v.version desc limit 1
             ) chosen on true`,
          [deployment.id, input.planCode, input.planVersion ?? null, codes],
        );
        const planVersion = planVersionFromRow(found!, "");
        if (!planVersion) throw unknownPlan(input.planCode, input.planVersion);
        const known = new Map((found!.addons as Row[]).map((a) => [a.code as string, addonFromJson(a)]));
        const addons = codes.map((code) => {
          const addon = known.get(code);
          if (!addon) throw new DomainError("UNKNOWN_ADDON", `No add-on ${code}.`, { code });
          return addon;
        });
        const now = ctx.now();
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
        return { subscription, addons: attachments, planChanges: [planChange] };
      }),
    "ALREADY_SUBSCRIBED",
    "This deployment already has a subscription.",
    "subscriptions_deployment_unique",
  );
}

const ADDON_JSON = `'id', a.id, 'code', a.code, 'name', a.name, 'resource_kind', a.resource_kind, 'qty', a.qty::text,
  'price_cents', a.price_cents::text, 'currency', a.currency, 'active', a.active, 'created_at', a.created_at,
  'updated_at', a.updated_at`;

/** An add-on from `ADDON_JSON` (amounts and quantities travel as text, never as JSON numbers). */
function addonFromJson(a: Row): Addon {
  return new Addon({
    id: a.id as string,
    code: a.code as string,
    name: a.name as string,
    resourceKind: a.resource_kind as string,
    qty: normalizeDecimal(a.qty as string),
    priceCents: Number(a.price_cents),
    currency: a.currency as string,
    active: Boolean(a.active),
    createdAt: instant(a.created_at),
    updatedAt: instant(a.updated_at),
  });
}

/** The subscription, its initial plan change and its add-on snapshots, in one statement. */
async function insertSubscription(
  sql: Sql,
  s: Subscription,
  c: PlanChange,
  attachments: readonly AddonAttachment[],
): Promise<void> {
  const column = <K extends keyof AddonAttachment>(key: K) => attachments.map((a) => a[key]);
  await sql(
    `with subscription as (
       insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start,
         current_period_end, trial_ends_at, pending_plan_version_id, cancelled_at, ended_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ), plan_change as (
       insert into subscription_plan_changes (id, subscription_id, from_plan_version_id, to_plan_version_id, kind,
         requested_at, effective_at, actor_type, actor_id, actor_role, superseded_at)
       values ($14, $1, $15, $16, $17, $18, $19, $20, $21, $22, $23)
     )
     insert into subscription_addons (id, subscription_id, addon_code, resource_kind, qty, price_cents, currency,
       attached_at, detached_at)
     select id, $1, addon_code, resource_kind, qty, price_cents, currency, attached_at, detached_at
       from unnest($24::uuid[], $25::text[], $26::text[], $27::numeric[], $28::bigint[], $29::text[],
                   $30::timestamptz[], $31::timestamptz[])
         as a(id, addon_code, resource_kind, qty, price_cents, currency, attached_at, detached_at)`,
    [
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
    ],
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
