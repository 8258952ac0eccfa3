import type {
  Addon,
  AddonAttachment,
  ApiToken,
  CloudResource,
  ComputedLine,
  Deployment,
  DeploymentEvent,
  DunningPolicy,
  Entitlement,
  Payment,
  PaymentMethod,
  PlanChange,
  PlanVersion,
  Tenant,
} from "@arcadia/domain";
import {
  amountDue,
  EVENT_TYPES,
  type EventType,
  eventActor,
  type Invoice,
  type PlannedAction,
  tokenLast4,
} from "@arcadia/domain";
import type { InvoiceDocument, UpcomingInvoice } from "../billing/documents.ts";
import type { PlanWithVersions } from "../catalog/catalog.ts";
import type { DeploymentDocument, SubscriptionDocument } from "../deployments/document.ts";
import type { StoredEvent } from "../events/feed.ts";
import type { WebhookAttempt } from "../mapping/webhooks.ts";
import type { IssuedToken } from "../tenancy/tokens.ts";
import type { EndpointWithSecret, Redelivery } from "../webhooks/documents.ts";

// Entities → the contract's JSON, one definition for the API's responses and the events' `data`: camelCase, ISO-8601 UTC instants, integer cents, decimal strings.
const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function presentTenant(t: Tenant) {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    sandbox: t.sandbox,
    clock: t.clockFrozenAt ? { frozenAt: iso(t.clockFrozenAt) } : null,
    paymentTermsDays: t.paymentTermsDays,
    createdAt: iso(t.createdAt),
  };
}

/** A sandbox's clock (`TestClockView` of tenancy/test-clock.ts, typed here by shape: that module runs the rollover, which presents). */
export function presentTestClock(c: { tenantId: string; frozenAt: Date }) {
  return { tenantId: c.tenantId, frozenAt: iso(c.frozenAt) };
}

/** What an advance did (`ClockAdvanceSummary`, typed here by shape like `presentTestClock`). */
export function presentClockAdvance(a: {
  tenantId: string;
  from: Date;
  to: Date;
  instants: readonly { at: Date; invoicesIssued: number; transitionsMade: number }[];
  invoicesIssued: number;
  transitionsMade: number;
}) {
  return {
    tenantId: a.tenantId,
    from: iso(a.from),
    to: iso(a.to),
    clock: { tenantId: a.tenantId, frozenAt: iso(a.to) },
    instantsVisited: a.instants.length,
    instants: a.instants.map(({ at, ...counts }) => ({ at: iso(at), ...counts })),
    invoicesIssued: a.invoicesIssued,
    transitionsMade: a.transitionsMade,
  };
}

export function presentPaymentMethod(m: PaymentMethod) {
  return {
    tenantId: m.tenantId,
    provider: m.provider,
    tokenLast4: tokenLast4(m.token),
    createdAt: iso(m.createdAt),
  };
}

export function presentDunningPolicy(p: DunningPolicy) {
  return {
    retryAfterDays: [...p.retryAfterDays],
    pastDueAfterDays: p.pastDueAfterDays,
    suspendAfterDays: p.suspendAfterDays,
    cancelAfterDays: p.cancelAfterDays,
    archiveAfterDays: p.archiveAfterDays,
  };
}

export function presentPayment(p: Payment) {
  return {
    id: p.id,
    invoiceId: p.invoiceId,
    amountCents: p.amountCents,
    currency: p.currency,
    method: p.method,
    provider: p.provider,
    providerRef: p.providerRef,
    status: p.status,
    failureCode: p.failureCode,
    attempt: p.attempt,
    reference: p.reference,
    createdAt: iso(p.createdAt),
    settledAt: isoOrNull(p.settledAt),
  };
}

/** `CollectionPreview` of collection/payments.ts, typed here by shape (that module writes events, which present). */
export function presentCollectionPreview(p: {
  deploymentId: string;
  amountDueCents: number;
  overdueInvoices: readonly InvoiceDocument[];
  nextActions: readonly PlannedAction[];
}) {
  return {
    deploymentId: p.deploymentId,
    amountDueCents: p.amountDueCents,
    overdueInvoices: p.overdueInvoices.map(presentInvoice),
    nextActions: p.nextActions.map((a) => ({ action: a.action, at: iso(a.at), invoiceId: a.invoiceId })),
  };
}

export function presentToken(t: ApiToken) {
  return {
    id: t.id,
    role: t.role,
    tenantId: t.tenantId,
    name: t.name,
    createdAt: iso(t.createdAt),
    revokedAt: isoOrNull(t.revokedAt),
  };
}

export function presentIssuedToken({ token, secret }: IssuedToken) {
  return { ...presentToken(token), token: secret };
}

export function presentPlanVersion(v: PlanVersion) {
  return {
    id: v.id,
    planCode: v.plan.code,
    version: v.version,
    priceCents: v.priceCents,
    currency: v.currency,
    trialDays: v.trialDays,
    includes: v.includes,
    createdAt: iso(v.createdAt),
  };
}

export function presentPlan({ plan, versions }: PlanWithVersions) {
  const presented = versions.map(presentPlanVersion);
  return {
    id: plan.id,
    code: plan.code,
    name: plan.name,
    createdAt: iso(plan.createdAt),
    currentVersion: presented.at(-1)!,
    versions: presented,
  };
}

export function presentAddon(a: Addon) {
  return {
    id: a.id,
    code: a.code,
    name: a.name,
    resourceKind: a.resourceKind,
    qty: a.qty,
    priceCents: a.priceCents,
    currency: a.currency,
    active: a.active,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

export function presentDeployment(d: Deployment) {
  return {
    id: d.id,
    tenantId: d.tenantId,
    slug: d.slug,
    displayName: d.displayName,
    region: d.region,
    state: d.state,
    llmMode: d.llmMode,
    billingActionSuspended: d.billingActionSuspended,
    templateCode: d.templateCode,
    templateVersion: d.templateVersion,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

export function presentEvent(e: DeploymentEvent) {
  return {
    id: e.id,
    deploymentId: e.deploymentId,
    sequence: e.sequence,
    fromState: e.fromState,
    toState: e.toState,
    actor: eventActor(e),
    reason: e.reason,
    occurredAt: iso(e.occurredAt),
  };
}

function snapshotOf(v: PlanVersion) {
  const { createdAt: _createdAt, ...snapshot } = presentPlanVersion(v);
  return snapshot;
}

export function presentAttachment(a: AddonAttachment) {
  return {
    id: a.id,
    addonCode: a.addonCode,
    resourceKind: a.resourceKind,
    qty: a.qty,
    priceCents: a.priceCents,
    currency: a.currency,
    attachedAt: iso(a.attachedAt),
    detachedAt: isoOrNull(a.detachedAt),
  };
}

function presentPlanChange(c: PlanChange) {
  return {
    id: c.id,
    sequence: c.sequence,
    kind: c.kind,
    fromPlanVersion: c.fromPlanVersion ? snapshotOf(c.fromPlanVersion) : null,
    toPlanVersion: snapshotOf(c.toPlanVersion),
    requestedAt: iso(c.requestedAt),
    effectiveAt: iso(c.effectiveAt),
    actor: { type: c.actorType, id: c.actorId, ...(c.actorRole ? { role: c.actorRole } : {}) },
    supersededAt: isoOrNull(c.supersededAt),
  };
}

export function presentSubscription({ subscription: s, addons, planChanges }: SubscriptionDocument) {
  return {
    id: s.id,
    deploymentId: s.deploymentId,
    planVersion: snapshotOf(s.planVersion),
    status: s.status,
    currentPeriodStart: iso(s.currentPeriodStart),
    currentPeriodEnd: iso(s.currentPeriodEnd),
    trialEndsAt: isoOrNull(s.trialEndsAt),
    pendingPlanVersion: s.pendingPlanVersion ? snapshotOf(s.pendingPlanVersion) : null,
    addons: addons.map(presentAttachment),
    planHistory: planChanges.map(presentPlanChange),
    cancelledAt: isoOrNull(s.cancelledAt),
    endedAt: isoOrNull(s.endedAt),
    createdAt: iso(s.createdAt),
  };
}

export function presentDeploymentDocument(doc: DeploymentDocument) {
  return {
    deployment: presentDeployment(doc.deployment),
    subscription: doc.subscription ? presentSubscription(doc.subscription) : null,
    events: doc.events.map(presentEvent),
  };
}

export function presentResource(r: CloudResource) {
  return {
    id: r.id,
    deploymentId: r.deploymentId,
    tenantId: r.tenantId,
    kind: r.kind,
    providerRef: r.providerRef,
    qty: r.qty,
    createdAt: iso(r.createdAt),
    releasedAt: isoOrNull(r.releasedAt),
  };
}

export function presentEntitlement(e: Entitlement) {
  return { kind: e.kind, included: e.included, used: e.used, remaining: e.remaining };
}

function presentLine(l: ComputedLine) {
  return {
    kind: l.kind,
    description: l.description,
    refId: l.refId,
    unitPriceCents: l.unitPriceCents,
    billableMs: l.billableMs,
    periodMs: l.periodMs,
    amountCents: l.amountCents,
  };
}

/** A stored invoice, or one the rollover batch is writing (its lines as computed). */
export function presentInvoice({ invoice: s, lines }: { invoice: Invoice; lines: readonly ComputedLine[] }) {
  return {
    id: s.id,
    number: s.number,
    tenantId: s.tenantId,
    deploymentId: s.deploymentId,
    subscriptionId: s.subscriptionId,
    periodStart: iso(s.periodStart),
    periodEnd: iso(s.periodEnd),
    currency: s.currency,
    totalCents: s.totalCents,
    status: s.status,
    amountPaidCents: s.amountPaidCents,
    amountDueCents: amountDue(s),
    issuedAt: iso(s.issuedAt),
    dueAt: iso(s.dueAt),
    paidAt: isoOrNull(s.paidAt),
    voidedAt: isoOrNull(s.voidedAt),
    lines: lines.map(presentLine),
  };
}

export function presentUpcoming(u: UpcomingInvoice) {
  return {
    tenantId: u.tenantId,
    deploymentId: u.deploymentId,
    subscriptionId: u.subscriptionId,
    periodStart: iso(u.periodStart),
    periodEnd: iso(u.periodEnd),
    currency: u.currency,
    totalCents: u.totalCents,
    status: "upcoming" as const,
    lines: u.lines.map(presentLine),
  };
}

export function presentPage<T, U>(page: { items: T[]; nextCursor: string | null }, present: (item: T) => U) {
  return { items: page.items.map(present), nextCursor: page.nextCursor };
}

/** An event of the feed (SPEC §3.9), exactly the body its webhooks carry. */
export function presentFeedEvent(e: StoredEvent) {
  return { id: e.id, type: e.type, occurredAt: iso(e.occurredAt), tenantId: e.tenantId, data: e.data };
}

/** A webhook endpoint without its secrets (only creation and rotation answer the new secret). */
export function presentWebhookEndpoint(e: {
  id: string;
  tenantId: string | null;
  url: string;
  eventTypes: readonly string[] | null;
  description: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastSuccessAt: Date | null;
  disabledAt: Date | null;
  previousSecretExpiresAt: Date | null;
}) {
  return {
    id: e.id,
    tenantId: e.tenantId,
    url: e.url,
    eventTypes: (e.eventTypes ?? EVENT_TYPES) as EventType[],
    description: e.description,
    enabled: e.enabled,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
    lastSuccessAt: isoOrNull(e.lastSuccessAt),
    disabledAt: isoOrNull(e.disabledAt),
    previousSecretExpiresAt: isoOrNull(e.previousSecretExpiresAt),
  };
}

export function presentWebhookEndpointWithSecret({ endpoint, secret }: EndpointWithSecret) {
  return { ...presentWebhookEndpoint(endpoint), secret };
}

export function presentWebhookAttempt(a: WebhookAttempt) {
  return {
    id: a.id,
    eventId: a.eventId,
    attempt: a.attempt,
    attemptedAt: iso(a.attemptedAt),
    succeeded: a.succeeded,
    responseStatus: a.responseStatus,
    durationMs: a.durationMs,
    error: a.error,
  };
}

export function presentRedelivery(r: Redelivery) {
  return {
    endpointId: r.endpointId,
    eventId: r.eventId,
    status: r.status,
    nextAttemptAt: iso(r.nextAttemptAt),
  };
}
