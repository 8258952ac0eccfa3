import {
  COLLECTION_ACTOR_ID,
  type CollectionInvoice,
  type CollectionSubject,
  DEFAULT_DUNNING_POLICY,
  type Deployment,
  type DeploymentEvent,
  followDeploymentState,
  type Invoice,
  type SubscriptionStatus,
  transitionDeployment,
  unwrap,
} from "@arcadia/domain";
import { type NewEvent, recordEvents } from "../events/outbox.ts";
import { INVOICE_COLUMNS, invoiceFromRow } from "../mapping/billing.ts";
import { POLICY_COLUMNS, policyFromRow } from "../mapping/collection.ts";
import { DEPLOYMENT_COLUMNS, deploymentFromRow } from "../mapping/deployments.ts";
import { presentDeployment } from "../presenters/presenters.ts";
import { instant, instantOrNull, type Row, type Sql } from "../shared/sql.ts";

/** How long a claimed payment attempt is left to the worker that made it before another reconciles it. */
export const ATTEMPT_LEASE_MS = 60_000;

export interface PaymentMethodRef {
  readonly id: string;
  readonly provider: string;
  readonly token: string;
}

/** A deployment with everything collection decides on (and its tenant's method for charging). */
export interface LoadedSubject {
  readonly deployment: Deployment;
  readonly subject: CollectionSubject;
  readonly invoices: ReadonlyMap<string, Invoice>;
  readonly paymentMethod: PaymentMethodRef | null;
  readonly tenantSlug: string;
}

/**
 * Loads what collection needs for these deployments in four set queries: the deployments with their
 * newest event, their open invoices with a summary of their attempts, the tenants' policies and
 * payment methods. The caller has locked the deployments.
 */
export async function loadCollectionSubjects(
  sql: Sql,
  deploymentIds: readonly string[],
): Promise<LoadedSubject[]> {
  if (deploymentIds.length === 0) return [];
  const ids = [...deploymentIds];
  // The deployment, its newest event, its tenant's slug, policy and payment method: one row each.
  const deployments = await sql(
    `select ${DEPLOYMENT_COLUMNS("d")}, e.actor_type as last_actor_type, e.occurred_at as last_occurred_at, t.slug as tenant_slug,
            p.tenant_id as policy_tenant_id, ${POLICY_COLUMNS("p")}, m.id as method_id, m.provider as method_provider, m.token as method_token
       from deployments d
       join deployment_events e on e.deployment_id = d.id and e.sequence = d.last_event_sequence
       join tenants t on t.id = d.tenant_id
       left join dunning_policies p on p.tenant_id = d.tenant_id
       left join payment_methods m on m.tenant_id = d.tenant_id
      where d.id = any($1::uuid[])`,
    [ids],
  );
  const invoices = await sql(
    `select ${INVOICE_COLUMNS("s")}, coalesce(a.last_attempt, 0) as last_attempt, coalesce(a.in_flight, false) as in_flight,
            f.permanent_failure_method_id
       from statements s
       left join lateral (
         select max(p.attempt) as last_attempt, bool_or(p.status in ('pending', 'unknown')) as in_flight
           from payments p where p.invoice_id = s.id and p.method = 'provider') a on true
       left join lateral (
         select case when p.retryable = false then p.payment_method_id end as permanent_failure_method_id
           from payments p where p.invoice_id = s.id and p.method = 'provider' and p.status = 'failed'
          order by p.attempt desc limit 1) f on true
      where s.deployment_id = any($1::uuid[]) and s.status = 'open'`,
    [ids],
  );
  const invoicesOf = new Map<string, Row[]>();
  for (const row of invoices) {
    const list = invoicesOf.get(row.deployment_id as string);
    if (list) list.push(row);
    else invoicesOf.set(row.deployment_id as string, [row]);
  }
  return deployments.map((row) => {
    const deployment = deploymentFromRow(row);
    const rows = invoicesOf.get(deployment.id) ?? [];
    const invoices = new Map(rows.map((r) => [r.id as string, invoiceFromRow(r)]));
    const collectionInvoices: CollectionInvoice[] = rows.map((r) => ({
      ...invoices.get(r.id as string)!,
      lastAttempt: Number(r.last_attempt),
      attemptInFlight: Boolean(r.in_flight),
      permanentFailureMethodId: (r.permanent_failure_method_id as string | null) ?? null,
    }));
    const paymentMethod = row.method_id
      ? {
          id: row.method_id as string,
          provider: row.method_provider as string,
          token: row.method_token as string,
        }
      : null;
    return {
      deployment,
      invoices: invoices,
      paymentMethod,
      tenantSlug: row.tenant_slug as string,
      subject: {
        state: deployment.state,
        billingActionSuspended: deployment.billingActionSuspended,
        lastEvent: {
          actorType: row.last_actor_type as "system" | "principal",
          occurredAt: instant(row.last_occurred_at),
        },
        invoices: collectionInvoices,
        policy: row.policy_tenant_id ? policyFromRow(row) : DEFAULT_DUNNING_POLICY,
        paymentMethodId: paymentMethod?.id ?? null,
      },
    };
  });
}

export interface SystemTransition {
  readonly deployment: Deployment;
  readonly event: DeploymentEvent;
}

/**
 * Applies system transitions (already decided by the domain) set-wise: deployments, their lifecycle
 * events, the coupled subscription status (cancellation), and their `deployment.transitioned`
 * outbox events. The deployments are locked by the caller; their subscriptions are locked here,
 * after them, as every transition does.
 */
export async function writeSystemTransitions(
  sql: Sql,
  transitions: readonly SystemTransition[],
  now: Date,
): Promise<void> {
  if (transitions.length === 0) return;
  const deployments = new Map(transitions.map((t) => [t.deployment.id, t.deployment]));
  // Only cancellation (and archiving) changes a subscription's status among collection's steps.
  const ending = [...deployments.values()].filter((d) => d.state === "cancelled" || d.state === "archived");
  const subscriptions =
    ending.length === 0
      ? []
      : await sql<{
          id: string;
          deployment_id: string;
          status: SubscriptionStatus;
          cancelled_at: Date | null;
        }>(
          `select id, deployment_id, status, cancelled_at from subscriptions
            where deployment_id = any($1::uuid[]) order by deployment_id for update`,
          [ending.map((d) => d.id)],
        );
  const subscriptionChanges: { id: string; status: string; cancelled_at: string | null }[] = [];
  for (const row of subscriptions) {
    const state = deployments.get(row.deployment_id)!.state;
    const subscription = { status: row.status, cancelledAt: instantOrNull(row.cancelled_at), updatedAt: now };
    const before = subscription.status;
    followDeploymentState(subscription, state, now);
    if (subscription.status !== before) {
      subscriptionChanges.push({
        id: row.id,
        status: subscription.status,
        cancelled_at: subscription.cancelledAt?.toISOString() ?? null,
      });
    }
  }
  await sql(
    `with d as (
       update deployments x set state = i.state, last_event_sequence = i.seq, updated_at = $2
         from jsonb_to_recordset($1::jsonb) as i(id uuid, state text, seq int) where x.id = i.id
     ), e as (
       insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at)
       select id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, null, reason, occurred_at
         from jsonb_to_recordset($3::jsonb) as i(id uuid, deployment_id uuid, sequence int, from_state text, to_state text,
              actor_type text, actor_id text, reason text, occurred_at timestamptz)
     )
     update subscriptions x set status = i.status, cancelled_at = i.cancelled_at, updated_at = $2
       from jsonb_to_recordset($4::jsonb) as i(id uuid, status text, cancelled_at timestamptz) where x.id = i.id`,
    [
      JSON.stringify(
        [...deployments.values()].map((d) => ({ id: d.id, state: d.state, seq: d.lastEventSequence })),
      ),
      now,
      JSON.stringify(
        transitions.map(({ event }) => ({
          id: event.id,
          deployment_id: event.deploymentId,
          sequence: event.sequence,
          from_state: event.fromState,
          to_state: event.toState,
          actor_type: event.actorType,
          actor_id: event.actorId,
          reason: event.reason,
          occurred_at: event.occurredAt.toISOString(),
        })),
      ),
      JSON.stringify(subscriptionChanges),
    ],
  );
  // Several steps of one deployment in one batch (a late worker) each show it as that step left it.
  await recordEvents(
    sql,
    transitions.map(
      ({ deployment, event }): NewEvent => ({
        type: "deployment.transitioned",
        tenantId: deployment.tenantId,
        occurredAt: event.occurredAt,
        data: {
          ...presentDeployment(deployment),
          state: event.toState,
          updatedAt: event.occurredAt.toISOString(),
        },
      }),
    ),
  );
}

/** A system transition by collection, decided by the domain's state machine (the override included). */
export function collectionTransition(
  deployment: Deployment,
  to: Deployment["state"],
  reason: string,
  eventId: string,
  now: Date,
  actorId: string = COLLECTION_ACTOR_ID,
): SystemTransition {
  const event = unwrap(
    transitionDeployment(deployment, { to, actor: { type: "system", id: actorId }, reason, eventId, now }),
  );
  return { deployment, event };
}

/** When collection next looks at these deployments (null: nothing scheduled, the row goes). */
export async function scheduleCollection(
  sql: Sql,
  entries: readonly { deploymentId: string; dueAt: Date | null }[],
): Promise<void> {
  if (entries.length === 0) return;
  const sorted = [...entries].sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : 1));
  await sql(
    `with i as (select * from jsonb_to_recordset($1::jsonb) as i(deployment_id uuid, due_at timestamptz)),
     del as (delete from collection_schedule c using i where c.deployment_id = i.deployment_id and i.due_at is null)
     insert into collection_schedule (deployment_id, due_at)
     select deployment_id, due_at from i where due_at is not null
     on conflict (deployment_id) do update set due_at = excluded.due_at`,
    [
      JSON.stringify(
        sorted.map((e) => ({ deployment_id: e.deploymentId, due_at: e.dueAt?.toISOString() ?? null })),
      ),
    ],
  );
}

/** Makes collection look at these deployments at `at` at the latest (an earlier appointment stays). */
export async function collectionDueBy(sql: Sql, deploymentIds: readonly string[], at: Date): Promise<void> {
  if (deploymentIds.length === 0) return;
  await sql(
    `insert into collection_schedule (deployment_id, due_at)
     select id, $2 from unnest($1::uuid[]) as id order by id
     on conflict (deployment_id) do update set due_at = least(collection_schedule.due_at, excluded.due_at)`,
    [[...new Set(deploymentIds)], at],
  );
}
