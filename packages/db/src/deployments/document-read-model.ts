import {
  AddonAttachment,
  Deployment,
  DeploymentEvent,
  normalizeDecimal,
  Plan,
  PlanChange,
  PlanVersion,
  type Principal,
  Subscription,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { poolingOf } from "../orm.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { instant as date, instantOrNull as dateOrNull, type Row, withConnection } from "../shared/sql.ts";
import type { DeploymentDocument } from "./document.ts";
import { DEPLOYMENT_DOCUMENT, DEPLOYMENT_DOCUMENT_FUNCTION } from "./queries.ts";

/**
 * The deployment document (deployment, subscription with plan versions, add-ons and plan history,
 * events) read in one prepared query (`DEPLOYMENT_DOCUMENT`) and mapped straight onto the
 * domain classes. It is the hottest read of the API: loading entities cost about three times as
 * much per request (identity map, eager-join planning, hydration), and one query per table cost a
 * round trip each. The result is the same as loading the entities —
 * `document-read-model.db.test.ts` compares them.
 */

export function planVersionFromRow(
  row: Row,
  prefix: string,
  cache = new Map<string, PlanVersion>(),
): PlanVersion | null {
  const id = row[`${prefix}id`] as string | null;
  if (!id) return null;
  const known = cache.get(id);
  if (known) return known;
  const includes = (
    typeof row[`${prefix}includes`] === "string"
      ? JSON.parse(row[`${prefix}includes`] as string)
      : row[`${prefix}includes`]
  ) as Record<string, string>;
  const version = new PlanVersion({
    id,
    plan: new Plan({
      id: row[`${prefix}plan_id`] as string,
      code: row[`${prefix}plan_code`] as string,
      name: row[`${prefix}plan_name`] as string,
      createdAt: date(row[`${prefix}plan_created_at`]),
    }),
    version: Number(row[`${prefix}version`]),
    priceCents: Number(row[`${prefix}price_cents`]),
    currency: row[`${prefix}currency`] as string,
    trialDays: Number(row[`${prefix}trial_days`]),
    includes,
    createdAt: date(row[`${prefix}created_at`]),
  });
  cache.set(id, version);
  return version;
}

export function deploymentFromRow(d: Row): Deployment {
  return new Deployment({
    id: d.id as string,
    tenantId: d.tenant_id as string,
    slug: d.slug as string,
    displayName: d.display_name as string,
    region: d.region as string,
    state: d.state as Deployment["state"],
    llmMode: d.llm_mode as Deployment["llmMode"],
    billingActionSuspended: Boolean(d.billing_action_suspended),
    templateCode: (d.template_code as string | null) ?? null,
    templateVersion: (d.template_version as string | null) ?? null,
    lastEventSequence: Number(d.last_event_sequence),
    createdAt: date(d.created_at),
    updatedAt: date(d.updated_at),
  });
}

export function readDeploymentDocument(
  em: EntityManager,
  principal: Principal,
  id: string,
): Promise<DeploymentDocument> {
  if (!isUuid(id)) return Promise.reject(notFound("Deployment"));
  return withConnection(em, async (sql) => {
    // Pooled per transaction, nothing is prepared by name: the function's plan is cached instead.
    const [row] =
      poolingOf(em) === "transaction"
        ? (await sql<{ doc: Row | null }>(DEPLOYMENT_DOCUMENT_FUNCTION, [id])).flatMap((r) =>
            r.doc ? [r.doc] : [],
          )
        : await sql(DEPLOYMENT_DOCUMENT, [id]);
    const deployment = visible(row ? deploymentFromRow(row) : null, principal, "Deployment");
    return documentFromRow(row!, deployment);
  });
}

function documentFromRow(d: Row, deployment: Deployment): DeploymentDocument {
  const versions = new Map<string, PlanVersion>();
  const events = (d.events as Row[]).map(
    (e) =>
      new DeploymentEvent({
        id: e.id as string,
        deploymentId: e.deployment_id as string,
        sequence: Number(e.sequence),
        fromState: (e.from_state as DeploymentEvent["fromState"]) ?? null,
        toState: e.to_state as DeploymentEvent["toState"],
        actorType: e.actor_type as DeploymentEvent["actorType"],
        actorId: e.actor_id as string,
        actorRole: (e.actor_role as DeploymentEvent["actorRole"]) ?? null,
        reason: (e.reason as string | null) ?? null,
        occurredAt: date(e.occurred_at),
      }),
  );
  const s = d.subscription as Row | null;
  if (!s) return { deployment, subscription: null, events };
  const subscription = new Subscription({
    id: s.id as string,
    deploymentId: s.deployment_id as string,
    tenantId: s.tenant_id as string,
    planVersion: planVersionFromRow(s, "v_", versions)!,
    status: s.status as Subscription["status"],
    currentPeriodStart: date(s.current_period_start),
    currentPeriodEnd: date(s.current_period_end),
    trialEndsAt: dateOrNull(s.trial_ends_at),
    pendingPlanVersion: planVersionFromRow(s, "pv_", versions),
    cancelledAt: dateOrNull(s.cancelled_at),
    endedAt: dateOrNull(s.ended_at),
    createdAt: date(s.created_at),
    updatedAt: date(s.updated_at),
  });
  const addons = (d.addons as Row[]).map(
    (a) =>
      new AddonAttachment({
        id: a.id as string,
        subscriptionId: a.subscription_id as string,
        addonCode: a.addon_code as string,
        resourceKind: a.resource_kind as string,
        qty: normalizeDecimal(String(a.qty)),
        priceCents: Number(a.price_cents),
        currency: a.currency as string,
        attachedAt: date(a.attached_at),
        detachedAt: dateOrNull(a.detached_at),
      }),
  );
  const planChanges = (d.plan_changes as Row[]).map(
    (c) =>
      new PlanChange({
        id: c.id as string,
        subscriptionId: c.subscription_id as string,
        sequence: Number(c.sequence),
        fromPlanVersion: planVersionFromRow(c, "f_", versions),
        toPlanVersion: planVersionFromRow(c, "t_", versions)!,
        kind: c.kind as PlanChange["kind"],
        requestedAt: date(c.requested_at),
        effectiveAt: date(c.effective_at),
        actorType: c.actor_type as PlanChange["actorType"],
        actorId: c.actor_id as string,
        actorRole: (c.actor_role as PlanChange["actorRole"]) ?? null,
        supersededAt: dateOrNull(c.superseded_at),
      }),
  );
  return { deployment, subscription: { subscription, addons, planChanges }, events };
}
