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
import { isUuid, visible } from "../shared/lookup.ts";
import {
  instant as date,
  instantOrNull as dateOrNull,
  type Row,
  type Sql,
  withConnection,
} from "../shared/sql.ts";
import type { DeploymentDocument } from "./deployments.ts";

/**
 * The deployment document (deployment, subscription with plan versions, add-ons and plan history,
 * events) read with five plain queries and mapped straight onto the domain classes. It is the
 * hottest read of the API; going through the entity manager cost about three times as much per
 * request (identity map, eager-join planning, hydration). The result is the same as loading the
 * entities — `document-read-model.db.test.ts` compares them.
 */

/** A plan version and its plan as `${prefix}…` columns (read back with `planVersionFromRow`). */
export const VERSION_COLUMNS = (alias: string, plan: string, prefix: string) =>
  `${alias}.id as ${prefix}id, ${alias}.version as ${prefix}version, ${alias}.price_cents as ${prefix}price_cents,
   ${alias}.currency as ${prefix}currency, ${alias}.trial_days as ${prefix}trial_days, ${alias}.includes as ${prefix}includes,
   ${alias}.created_at as ${prefix}created_at, ${plan}.id as ${prefix}plan_id, ${plan}.code as ${prefix}plan_code,
   ${plan}.name as ${prefix}plan_name, ${plan}.created_at as ${prefix}plan_created_at`;

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
  return withConnection(em, (rows) => readDocument(rows, principal, id));
}

async function readDocument(rows: Sql, principal: Principal, id: string): Promise<DeploymentDocument> {
  const [d] = isUuid(id) ? await rows("select * from deployments where id = $1", [id]) : [];
  const deployment = visible(d ? deploymentFromRow(d) : null, principal, "Deployment");
  const versions = new Map<string, PlanVersion>();
  const [subscriptionRows, eventRows] = await Promise.all([
    rows(
      `select s.*, ${VERSION_COLUMNS("v", "p", "v_")}, ${VERSION_COLUMNS("pv", "pp", "pv_")}
         from subscriptions s
         join plan_versions v on v.id = s.plan_version_id join plans p on p.id = v.plan_id
         left join plan_versions pv on pv.id = s.pending_plan_version_id left join plans pp on pp.id = pv.plan_id
        where s.deployment_id = $1`,
      [deployment.id],
    ),
    rows("select * from deployment_events where deployment_id = $1 order by sequence", [deployment.id]),
  ]);
  const events = eventRows.map(
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
  const s = subscriptionRows[0];
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
  const [addonRows, changeRows] = await Promise.all([
    rows("select * from subscription_addons where subscription_id = $1 order by attached_at, id", [
      subscription.id,
    ]),
    rows(
      `select c.*, ${VERSION_COLUMNS("f", "fp", "f_")}, ${VERSION_COLUMNS("t", "tp", "t_")}
         from subscription_plan_changes c
         left join plan_versions f on f.id = c.from_plan_version_id left join plans fp on fp.id = f.plan_id
         join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id
        where c.subscription_id = $1 order by c.requested_at, c.id`,
      [subscription.id],
    ),
  ]);
  const addons = addonRows.map(
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
  const planChanges = changeRows.map(
    (c) =>
      new PlanChange({
        id: c.id as string,
        subscriptionId: c.subscription_id as string,
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
