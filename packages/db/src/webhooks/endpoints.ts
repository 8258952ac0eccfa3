import { randomBytes } from "node:crypto";
import {
  type EventType,
  type OutboundPolicy,
  type Principal,
  requireWriter,
  Tenant,
  tenantToList,
  unwrap,
  WEBHOOK_SECRET_OVERLAP_MS,
} from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { WebhookAttempt, WebhookEndpoint } from "../mapping/webhooks.ts";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound, visible } from "../shared/lookup.ts";
import { afterCursor, decodeCursor, type Page, pageLimit, toPage } from "../shared/pagination.ts";
import { withConnection } from "../shared/sql.ts";
import type { EndpointWithSecret, Redelivery } from "./documents.ts";
import { recordEndpointDisabled } from "./endpoint-events.ts";
import { checkWebhookUrl } from "./outbound.ts";

export type { EndpointWithSecret, Redelivery } from "./documents.ts";

/** A signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

async function findVisibleEndpoint(
  em: EntityManager,
  principal: Principal,
  id: string,
  lock = false,
): Promise<WebhookEndpoint> {
  const endpoint = isUuid(id)
    ? await em.findOne(WebhookEndpoint, { id }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {})
    : null;
  // Tenant principals see their tenant's endpoints; platform-wide ones (no tenant) are operators' only.
  return visible(endpoint, principal, "Webhook endpoint");
}

/**
 * The tenant a new endpoint belongs to: a tenant admin's own; the one a platform admin names, or
 * none (platform-wide: every tenant's events).
 */
function endpointTenant(principal: Principal, requested: string | undefined): string | null {
  unwrap(requireWriter(principal));
  if (principal.role === "platform_admin") return requested ?? null;
  if (requested !== undefined && requested !== principal.tenantId) throw notFound("Tenant");
  return principal.tenantId!;
}

export interface NewWebhookEndpoint {
  readonly url: string;
  readonly eventTypes?: readonly EventType[];
  readonly description?: string | null;
  readonly tenantId?: string;
}

const allTypes = (types: readonly EventType[] | undefined) =>
  types === undefined ? null : [...new Set(types)];

export async function createWebhookEndpoint(
  ctx: UseCaseContext,
  principal: Principal,
  input: NewWebhookEndpoint,
  policy: OutboundPolicy,
): Promise<EndpointWithSecret> {
  const tenantId = endpointTenant(principal, input.tenantId);
  const url = unwrap(checkWebhookUrl(input.url, policy));
  const now = ctx.clock.wallNow();
  const secret = newWebhookSecret();
  return ctx.em.transactional(async (em) => {
    if (tenantId !== null && (!isUuid(tenantId) || !(await em.findOne(Tenant, { id: tenantId })))) {
      throw notFound("Tenant");
    }
    const endpoint = Object.assign(new WebhookEndpoint(), {
      id: ctx.newId(),
      tenantId,
      url,
      eventTypes: allTypes(input.eventTypes),
      description: input.description ?? null,
      enabled: true,
      secret,
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      updatedAt: now,
      lastSuccessAt: null,
      failingSince: null,
      disabledAt: null,
    });
    em.persist(endpoint);
    await em.flush();
    return { endpoint, secret };
  });
}

export interface WebhookEndpointQuery {
  readonly tenantId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export async function listWebhookEndpoints(
  ctx: UseCaseContext,
  principal: Principal,
  query: WebhookEndpointQuery,
): Promise<Page<WebhookEndpoint>> {
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const tenantId = tenantToList(principal, query.tenantId);
  if (tenantId !== undefined && !isUuid(tenantId)) return { items: [], nextCursor: null };
  const rows = await ctx.em.find(
    WebhookEndpoint,
    { ...(tenantId !== undefined ? { tenantId } : {}), ...afterCursor("createdAt", cursor) },
    { orderBy: { createdAt: "asc", id: "asc" }, limit: limit + 1 },
  );
  return toPage(rows, limit, (e) => e.createdAt);
}

export async function getWebhookEndpoint(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<WebhookEndpoint> {
  return findVisibleEndpoint(ctx.em, principal, id);
}

export interface WebhookEndpointPatch {
  readonly url?: string;
  readonly eventTypes?: readonly EventType[];
  readonly description?: string | null;
  readonly enabled?: boolean;
}

/**
 * Changes an endpoint; enabling a disabled one starts it afresh (no failure carried over);
 * disabling one records `webhook_endpoint.disabled` in the same transaction.
 */
export async function updateWebhookEndpoint(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
  patch: WebhookEndpointPatch,
  policy: OutboundPolicy,
): Promise<WebhookEndpoint> {
  return ctx.em.transactional(async (em) => {
    const endpoint = await findVisibleEndpoint(em, principal, id, true);
    unwrap(requireWriter(principal));
    const now = ctx.clock.wallNow();
    if (patch.url !== undefined) endpoint.url = unwrap(checkWebhookUrl(patch.url, policy));
    if (patch.eventTypes !== undefined) endpoint.eventTypes = allTypes(patch.eventTypes);
    if (patch.description !== undefined) endpoint.description = patch.description;
    const enabling = patch.enabled === true && !endpoint.enabled;
    if (enabling) {
      endpoint.enabled = true;
      endpoint.disabledAt = null;
      endpoint.failingSince = null;
      // Deliveries start afresh: events of transactions after this one only, however far behind
      // the fan-out runs (it checks `enabled` when it reads an event, not when it was committed).
      await withConnection(em, (sql) =>
        sql("update webhook_endpoints set created_xid = pg_current_xact_id() where id = $1", [endpoint.id]),
      );
    }
    const disabling = patch.enabled === false && endpoint.enabled;
    if (disabling) {
      endpoint.enabled = false;
      endpoint.disabledAt = now;
    }
    endpoint.updatedAt = now;
    if (disabling) await recordEndpointDisabled(em, endpoint, now);
    return endpoint;
  });
}

export async function deleteWebhookEndpoint(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<WebhookEndpoint> {
  return ctx.em.transactional(async (em) => {
    const endpoint = await findVisibleEndpoint(em, principal, id, true);
    unwrap(requireWriter(principal));
    em.remove(endpoint);
    return endpoint;
  });
}

/** A new secret; the previous one keeps signing alongside it for 24 hours (two signatures). */
export async function rotateWebhookSecret(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
): Promise<EndpointWithSecret> {
  return ctx.em.transactional(async (em) => {
    const endpoint = await findVisibleEndpoint(em, principal, id, true);
    unwrap(requireWriter(principal));
    const now = ctx.clock.wallNow();
    const secret = newWebhookSecret();
    endpoint.previousSecret = endpoint.secret;
    endpoint.previousSecretExpiresAt = new Date(now.getTime() + WEBHOOK_SECRET_OVERLAP_MS);
    endpoint.secret = secret;
    endpoint.updatedAt = now;
    return { endpoint, secret };
  });
}

export interface AttemptQuery {
  readonly limit?: number;
  readonly cursor?: string;
}

/** The delivery log of an endpoint: every finished attempt, oldest first. */
export async function listWebhookAttempts(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
  query: AttemptQuery,
): Promise<Page<WebhookAttempt>> {
  const endpoint = await findVisibleEndpoint(ctx.em, principal, id);
  const limit = pageLimit(query.limit);
  const cursor = decodeCursor(query.cursor);
  const rows = await ctx.em.find(
    WebhookAttempt,
    { endpointId: endpoint.id, ...afterCursor("attemptedAt", cursor) },
    { orderBy: { attemptedAt: "asc", id: "asc" }, limit: limit + 1 },
  );
  return toPage(rows, limit, (a) => a.attemptedAt);
}

/**
 * Queues an event for the endpoint again, now, with a fresh retry schedule (the event must be one
 * the endpoint may receive: its tenant's, or any for a platform-wide endpoint). Sent while the
 * endpoint is enabled.
 */
export async function redeliverWebhookEvent(
  ctx: UseCaseContext,
  principal: Principal,
  id: string,
  eventId: string,
): Promise<Redelivery> {
  return ctx.em.transactional(async (em) => {
    const endpoint = await findVisibleEndpoint(em, principal, id);
    unwrap(requireWriter(principal));
    if (!isUuid(eventId)) throw notFound("Event");
    const now = ctx.clock.wallNow();
    const [queued] = await withConnection(em, async (sql) => {
      // The endpoint locked as a key check would (no foreign key checks the delivery,
      // Migration20261202030000): a deletion waits for this transaction and takes the delivery
      // with it; one that came first leaves no endpoint to queue for.
      const [alive] = await sql("select id from webhook_endpoints where id = $1 for key share", [
        endpoint.id,
      ]);
      if (!alive) throw notFound("Webhook endpoint");
      return sql(
        `insert into webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
         select $1, $2, e.id, 'pending', 0, $4, $4 from events e
          where e.id = $3 and ($5::uuid is null or e.tenant_id = $5)
         on conflict (endpoint_id, event_id) do update set status = 'pending', attempts = 0, next_attempt_at = $4, leased_until = null, lease_id = null
         returning event_id`,
        [ctx.newId(), endpoint.id, eventId, now, endpoint.tenantId],
      );
    });
    if (!queued) throw notFound("Event");
    return { endpointId: endpoint.id, eventId, status: "pending", nextAttemptAt: now };
  });
}
