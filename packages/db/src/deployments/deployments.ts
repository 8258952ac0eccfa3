import {
  AddonAttachment,
  actorOf,
  Deployment,
  type DeploymentEvent,
  type DeploymentPatch,
  type DeploymentState,
  followDeploymentState,
  type LlmMode,
  createDeployment as newDeployment,
  PlanChange,
  type Principal,
  updateDeployment as patchDeployment,
  requireWriter,
  Subscription,
  type SubscriptionStatus,
  Tenant,
  tenantForWrite,
  tenantToList,
  transitionDeployment as transition,
  unwrap,
} from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { collectionDueBy } from "../collection/collection-state.ts";
import { recordEvent } from "../events/outbox.ts";
import { deploymentFromRow } from "../mapping/deployments.ts";
import { presentDeployment } from "../presenters/presenters.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { onUniqueViolation } from "../shared/errors.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { afterCursor, decodeCursor, type Page, pageLimit, toPage } from "../shared/pagination.ts";
import { instantOrNull, inTransaction } from "../shared/sql.ts";
import type { DeploymentDocument, SubscriptionDocument } from "./document.ts";
import {
  INSERT_EVENT,
  LOCK_DEPLOYMENT,
  LOCK_SUBSCRIPTION_STATUS,
  UPDATE_STATE,
  UPDATE_SUBSCRIPTION_STATUS,
} from "./queries.ts";

/** Loads a deployment the principal may see, optionally locking its row for the transaction. */
export async function findVisibleDeployment(
  em: EntityManager,
  principal: Principal,
  id: string,
  lock = false,
): Promise<Deployment> {
  const row = isUuid(id)
    ? await em.findOne(Deployment, { id }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {})
    : null;
  return visible(row, principal, "Deployment");
}

export async function loadSubscriptionDocument(
  em: EntityManager,
  deploymentId: string,
): Promise<SubscriptionDocument | null> {
  const subscription = await em.findOne(Subscription, { deploymentId });
  if (!subscription) return null;
  const [addons, planChanges] = await Promise.all([
    em.find(
      AddonAttachment,
      { subscriptionId: subscription.id },
      { orderBy: { attachedAt: "asc", id: "asc" } },
    ),
    em.find(PlanChange, { subscriptionId: subscription.id }, { orderBy: { sequence: "asc" } }),
  ]);
  return { subscription, addons, planChanges };
}

export interface DeploymentQuery {
  readonly tenantId?: string;
  readonly state?: DeploymentState;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Deployments oldest first, scoped to the principal's tenant (platform admins may filter by tenant). */
export async function listDeployments(
  ctx: UseCaseContext,
  principal: Principal,
  query: DeploymentQuery,
): Promise<Page<Deployment>> {
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const tenantId = tenantToList(principal, query.tenantId);
  if (tenantId !== undefined && !isUuid(tenantId)) return { items: [], nextCursor: null };
  const rows = await ctx.em.find(
    Deployment,
    {
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(query.state ? { state: query.state } : {}),
      ...afterCursor("createdAt", cursor),
    },
    { orderBy: { createdAt: "asc", id: "asc" }, limit: limit + 1 },
  );
  return toPage(rows, limit, (d) => d.createdAt);
}

export interface NewDeploymentInput {
  readonly slug: string;
  readonly displayName: string;
  readonly region: string;
  readonly llmMode?: LlmMode;
  readonly trial?: boolean;
  readonly tenantId?: string;
}

/** Creates a deployment and its creation event atomically; a taken slug in the tenant is SLUG_TAKEN. */
export async function createDeployment(
  ctx: UseCaseContext,
  principal: Principal,
  input: NewDeploymentInput,
): Promise<DeploymentDocument> {
  const tenantId = unwrap(tenantForWrite(principal, input.tenantId));
  const now = await ctx.clock.tenantNow(ctx.em, tenantId);
  const { deployment, event } = unwrap(
    newDeployment({
      ...input,
      id: ctx.newId(),
      eventId: ctx.newId(),
      tenantId,
      actor: actorOf(principal),
      now,
      regions: ctx.regions,
    }),
  );
  await onUniqueViolation(
    () =>
      ctx.em.transactional(async (em) => {
        if (!isUuid(tenantId) || !(await em.findOne(Tenant, { id: tenantId }))) throw notFound("Tenant");
        em.persist([deployment, event]);
        await recordEvent(em, {
          type: "deployment.created",
          tenantId,
          occurredAt: now,
          data: presentDeployment(deployment),
        });
      }),
    "SLUG_TAKEN",
    `The slug ${input.slug} is taken in this tenant.`,
  );
  return { deployment, subscription: null, events: [event] };
}

export async function updateDeployment(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
  patch: DeploymentPatch,
): Promise<Deployment> {
  return ctx.em.transactional(async (em) => {
    const deployment = await findVisibleDeployment(em, principal, id, true);
    unwrap(requireWriter(principal));
    const lifted = deployment.billingActionSuspended && patch.billingActionSuspended === false;
    const now = await ctx.clock.tenantNow(em, deployment.tenantId);
    const updated = unwrap(patchDeployment(deployment, patch, actorOf(principal), now));
    // Lifting the override: collection looks at the deployment at once for what it held back.
    if (lifted) {
      await em.getConnection().execute(
        `insert into collection_schedule (deployment_id, due_at) values (?, ?)
         on conflict (deployment_id) do update set due_at = least(collection_schedule.due_at, excluded.due_at)`,
        [deployment.id, now],
        "run",
        em.getTransactionContext(),
      );
    }
    await recordEvent(em, {
      type: "deployment.updated",
      tenantId: updated.tenantId,
      occurredAt: now,
      data: presentDeployment(updated),
    });
    return updated;
  });
}

/**
 * Applies a lifecycle transition: the row lock serialises transitions on one deployment, so a
 * loser re-reads the state the winner left and is judged against it. The state change, its event
 * and the coupled subscription status commit together. The clock is read after the locks, so the
 * event never predates a period the worker has already closed.
 */
export async function transitionDeployment(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
  input: { to: DeploymentState; reason?: string | null },
): Promise<{ deployment: Deployment; event: DeploymentEvent }> {
  // The hottest write: plain SQL in the transaction (the rule itself is the domain's `transition`).
  return inTransaction(ctx.sqlEm, async (sql) => {
    const [row] = isUuid(id) ? await sql(LOCK_DEPLOYMENT, [id]) : [];
    const deployment = visible(row ? deploymentFromRow(row) : null, principal, "Deployment");
    const [locked] = await sql(LOCK_SUBSCRIPTION_STATUS, [deployment.id]);
    const now = await ctx.clock.tenantNow(sql, deployment.tenantId);
    const event = unwrap(
      transition(deployment, {
        to: input.to,
        actor: actorOf(principal),
        reason: input.reason ?? null,
        eventId: ctx.newId(),
        now,
      }),
    );
    await sql(UPDATE_STATE, [deployment.state, deployment.lastEventSequence, now, deployment.id]);
    // A cancellation starts the retention clock: collection archives it later (SPEC §3.8).
    if (event.toState === "cancelled") await collectionDueBy(sql, [deployment.id], now);
    await sql(INSERT_EVENT, [
      event.id,
      event.deploymentId,
      event.sequence,
      event.fromState,
      event.toState,
      event.actorType,
      event.actorId,
      event.actorRole,
      event.reason,
      now,
    ]);
    await recordEvent(sql, {
      type: "deployment.transitioned",
      tenantId: deployment.tenantId,
      occurredAt: now,
      data: presentDeployment(deployment),
    });
    if (locked) {
      const subscription = {
        status: locked.status as SubscriptionStatus,
        cancelledAt: instantOrNull(locked.cancelled_at),
        updatedAt: now,
      };
      const before = subscription.status;
      followDeploymentState(subscription, event.toState, now);
      if (subscription.status !== before) {
        await sql(UPDATE_SUBSCRIPTION_STATUS, [
          subscription.status,
          subscription.cancelledAt,
          now,
          locked.id,
        ]);
      }
    }
    return { deployment, event };
  });
}
