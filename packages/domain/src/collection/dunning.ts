import type { ActorRef } from "../lifecycle/actors.ts";
import type { DeploymentState } from "../lifecycle/states.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import { amountDue, DAY_MS, type InvoiceState } from "./invoice.ts";

/** The ladder's timings (SPEC §3.8), in days of 24 h. */
export interface DunningPolicy {
  /** Retries of the automatic charge, counted from the invoice's dueAt (attempt 1 is at issue). */
  readonly retryAfterDays: readonly number[];
  /** From the oldest overdue invoice's dueAt. */
  readonly pastDueAfterDays: number;
  readonly suspendAfterDays: number;
  readonly cancelAfterDays: number;
  /** From cancellation. */
  readonly archiveAfterDays: number;
}

export const DEFAULT_DUNNING_POLICY: DunningPolicy = Object.freeze({
  retryAfterDays: Object.freeze([1, 3, 5, 7]),
  pastDueAfterDays: 0,
  suspendAfterDays: 14,
  cancelAfterDays: 30,
  archiveAfterDays: 60,
});

export const MAX_DUNNING_DAYS = 3650;
export const MAX_RETRIES = 20;

/** A policy is whole days, retries strictly increasing, and the ladder in order: past due ≤ suspend ≤ cancel. */
export function validateDunningPolicy(policy: DunningPolicy): Result<DunningPolicy> {
  const fields: Record<string, string> = {};
  const day = (value: number) => Number.isInteger(value) && value >= 0 && value <= MAX_DUNNING_DAYS;
  const days = `must be a whole number of days from 0 to ${MAX_DUNNING_DAYS}`;
  if (
    policy.retryAfterDays.length > MAX_RETRIES ||
    !policy.retryAfterDays.every(day) ||
    !policy.retryAfterDays.every((d, i) => i === 0 || d > policy.retryAfterDays[i - 1]!)
  ) {
    fields.retryAfterDays = `must be at most ${MAX_RETRIES} strictly increasing whole numbers of days from 0 to ${MAX_DUNNING_DAYS}`;
  }
  for (const key of [
    "pastDueAfterDays",
    "suspendAfterDays",
    "cancelAfterDays",
    "archiveAfterDays",
  ] as const) {
    if (!day(policy[key])) fields[key] = days;
  }
  if (Object.keys(fields).length === 0) {
    if (policy.suspendAfterDays < policy.pastDueAfterDays)
      fields.suspendAfterDays = "must not come before pastDueAfterDays";
    if (policy.cancelAfterDays < policy.suspendAfterDays)
      fields.cancelAfterDays = "must not come before suspendAfterDays";
  }
  if (Object.keys(fields).length > 0) {
    return fail("VALIDATION_FAILED", "The dunning policy is not valid.", { fields });
  }
  return ok({ ...policy, retryAfterDays: [...policy.retryAfterDays] });
}

export const COLLECTION_ACTIONS = ["retry_payment", "past_due", "suspend", "cancel", "archive"] as const;
export type CollectionAction = (typeof COLLECTION_ACTIONS)[number];

/** The system actor collection transitions as. */
export const COLLECTION_ACTOR_ID = "billing-collection";

/** An open invoice as collection sees it, with what its payment attempts have left behind. */
export interface CollectionInvoice
  extends Pick<
    InvoiceState,
    "id" | "number" | "status" | "totalCents" | "amountPaidCents" | "issuedAt" | "dueAt" | "overdueAt"
  > {
  /** The highest attempt number recorded on it (0: none yet). */
  readonly lastAttempt: number;
  /** An attempt is still pending or unknown: it is reconciled before any new charge. */
  readonly attemptInFlight: boolean;
  /** The payment method of the latest failure, when it was final (no retries on that method). */
  readonly permanentFailureMethodId: string | null;
}

/** A deployment as collection sees it. */
export interface CollectionSubject {
  readonly state: DeploymentState;
  readonly billingActionSuspended: boolean;
  /** The newest event: who put the deployment in its state, and when. */
  readonly lastEvent: { readonly actorType: ActorRef["type"]; readonly occurredAt: Date };
  /** Its invoices; only open ones with money due matter. */
  readonly invoices: readonly CollectionInvoice[];
  readonly policy: DunningPolicy;
  /** The tenant's current payment method, if any. */
  readonly paymentMethodId: string | null;
}

export interface PlannedAction {
  readonly action: CollectionAction;
  readonly at: Date;
  readonly invoiceId: string | null;
  /** For retry_payment: the attempt number (the provider key is `<invoiceId>:<attempt>`). */
  readonly attempt?: number;
}

export interface PlannedTransition extends PlannedAction {
  readonly to: DeploymentState;
  readonly reason: string;
}

const plusDays = (instant: Date, days: number) => new Date(instant.getTime() + days * DAY_MS);

function owing(subject: CollectionSubject): CollectionInvoice[] {
  return subject.invoices
    .filter((invoice) => amountDue(invoice) > 0)
    .sort(
      (a, b) =>
        a.dueAt.getTime() - b.dueAt.getTime() ||
        a.issuedAt.getTime() - b.issuedAt.getTime() ||
        a.id.localeCompare(b.id),
    );
}

/** Whether the deployment's present state is one collection put it in (only those are undone on settlement). */
export function stateMadeByCollection(subject: Pick<CollectionSubject, "state" | "lastEvent">): boolean {
  return (
    (subject.state === "past_due" || subject.state === "suspended") &&
    subject.lastEvent.actorType === "system"
  );
}

/**
 * Settlement (SPEC §3.8): with no overdue invoice left, a state collection made (past_due or
 * suspended) goes back to active; a state a person chose is left alone.
 */
export function settlementDue(subject: CollectionSubject, now: Date): boolean {
  if (!stateMadeByCollection(subject)) return false;
  return !owing(subject).some((invoice) => now.getTime() >= invoice.dueAt.getTime());
}

/** The payment attempts scheduled for one invoice: attempt 1 at issue, then one per retry day after dueAt. */
function retrySlots(invoice: CollectionInvoice, policy: DunningPolicy): Date[] {
  return [invoice.issuedAt, ...policy.retryAfterDays.map((d) => plusDays(invoice.dueAt, d))];
}

function retries(subject: CollectionSubject, now: Date): PlannedAction[] {
  if (subject.paymentMethodId === null) return [];
  const planned: PlannedAction[] = [];
  for (const invoice of owing(subject)) {
    if (invoice.permanentFailureMethodId === subject.paymentMethodId) continue;
    const slots = retrySlots(invoice, subject.policy);
    // A late worker does not catch up on missed slots: only the latest slot that has come is charged.
    let due: PlannedAction | null = null;
    slots.forEach((at, index) => {
      const attempt = index + 1;
      if (attempt <= invoice.lastAttempt) return;
      const action: PlannedAction = { action: "retry_payment", at, invoiceId: invoice.id, attempt };
      if (at.getTime() <= now.getTime()) due = action;
      else planned.push(action);
    });
    if (due && !invoice.attemptInFlight) planned.push(due);
  }
  return planned;
}

function ladder(
  subject: CollectionSubject,
  state: DeploymentState,
  since: Date | null,
  now: Date,
): PlannedTransition[] {
  const { policy } = subject;
  const reference = owing(subject)[0] ?? null;
  const steps: PlannedTransition[] = [];
  let cancelledAt: Date | null = state === "cancelled" ? since : null;
  if (reference) {
    const name = reference.number;
    const due = reference.dueAt.toISOString();
    const ladderSteps: PlannedTransition[] = [
      {
        action: "past_due",
        to: "past_due",
        at: plusDays(reference.dueAt, policy.pastDueAfterDays),
        invoiceId: reference.id,
        reason: `invoice ${name} is overdue (due ${due})`,
      },
      {
        action: "suspend",
        to: "suspended",
        at: plusDays(reference.dueAt, policy.suspendAfterDays),
        invoiceId: reference.id,
        reason: `invoice ${name} unpaid ${policy.suspendAfterDays} days after its due date (${due})`,
      },
      {
        action: "cancel",
        to: "cancelled",
        at: plusDays(reference.dueAt, policy.cancelAfterDays),
        invoiceId: reference.id,
        reason: `invoice ${name} unpaid ${policy.cancelAfterDays} days after its due date (${due}); collection gave up`,
      },
    ];
    const first =
      state === "active" || state === "trial" ? 0 : state === "past_due" ? 1 : state === "suspended" ? 2 : 3;
    steps.push(...ladderSteps.slice(first));
    // Retention runs from the actual cancellation: a late worker cancels now, not when it was planned.
    if (first <= 2) cancelledAt = new Date(Math.max(ladderSteps[2]!.at.getTime(), now.getTime()));
  }
  if (cancelledAt !== null && (state === "cancelled" || steps.length > 0)) {
    steps.push({
      action: "archive",
      to: "archived",
      at: plusDays(cancelledAt, policy.archiveAfterDays),
      invoiceId: reference?.id ?? null,
      reason: `retention: cancelled ${policy.archiveAfterDays} days ago`,
    });
  }
  return steps;
}

/**
 * Everything collection will do for a deployment if nothing is paid, oldest first: payment
 * attempts (those already due included) and the ladder from its present state. Pure: the worker
 * takes what is due from it and the preview shows all of it. Ignores the operator override; callers
 * decide what it blocks.
 */
export function collectionPlan(subject: CollectionSubject, now: Date): PlannedAction[] {
  const settles = settlementDue(subject, now);
  const state = settles ? "active" : subject.state;
  const transitions = ladder(subject, state, subject.lastEvent.occurredAt, now).map(
    ({ action, at, invoiceId }) => ({
      action,
      at,
      invoiceId,
    }),
  );
  const order = (a: PlannedAction) => COLLECTION_ACTIONS.indexOf(a.action);
  return [...retries(subject, now), ...transitions].sort(
    (a, b) => a.at.getTime() - b.at.getTime() || order(a) - order(b),
  );
}

export interface DueCollectionWork {
  /** Move a state collection made back to active first (no overdue invoice is left). */
  readonly settle: boolean;
  /** The ladder steps that have come, in order (several when the worker ran late). */
  readonly transitions: readonly PlannedTransition[];
  /** Invoices to announce as overdue now (`invoice.overdue`, once each): open, money due, past dueAt. */
  readonly overdue: readonly string[];
  /** Attempts to make now: at most one per invoice. */
  readonly charges: readonly { readonly invoiceId: string; readonly attempt: number }[];
  /** When collection next has something to do for this deployment after this work (null: nothing scheduled). */
  readonly nextAt: Date | null;
  /** True when the operator override held back work that was due. */
  readonly skipped: boolean;
}

/** What collection does for a deployment at `now`, and when it next needs to look. */
export function dueCollectionWork(subject: CollectionSubject, now: Date): DueCollectionWork {
  const t = now.getTime();
  const settle = settlementDue(subject, now);
  const state = settle ? "active" : subject.state;
  const steps = ladder(subject, state, subject.lastEvent.occurredAt, now);
  const planned = retries(subject, now);
  const dueSteps = steps.filter((s) => s.at.getTime() <= t);
  const dueCharges = planned
    .filter((a) => a.at.getTime() <= t)
    .map((a) => ({ invoiceId: a.invoiceId!, attempt: a.attempt! }));
  const unannounced = owing(subject).filter((invoice) => invoice.overdueAt === null);
  const overdue = unannounced.filter((invoice) => invoice.dueAt.getTime() <= t).map((invoice) => invoice.id);
  const later = [...steps, ...planned, ...unannounced.map((invoice) => ({ at: invoice.dueAt }))]
    .map((a) => a.at.getTime())
    .filter((at) => at > t);
  const nextAt = later.length > 0 ? new Date(Math.min(...later)) : null;
  if (subject.billingActionSuspended) {
    // The override holds every collection action on the deployment, its overdue notices included
    // (sent at the first pass after it is lifted).
    const skipped = settle || dueSteps.length > 0 || dueCharges.length > 0 || overdue.length > 0;
    return { settle: false, transitions: [], overdue: [], charges: [], nextAt, skipped };
  }
  return { settle, transitions: dueSteps, overdue, charges: dueCharges, nextAt, skipped: false };
}

export function settlementReason(
  invoiceNumber: string | null,
  outcome: "paid" | "void" | "uncollectible" | null,
): string {
  return invoiceNumber && outcome
    ? `settled: invoice ${invoiceNumber} ${outcome === "paid" ? "paid" : outcome === "void" ? "voided" : "marked uncollectible"}; no overdue invoice left`
    : "settled: no overdue invoice left";
}

/** A tenant's own dunning policy (tenants without one follow DEFAULT_DUNNING_POLICY). */
export class TenantDunningPolicy implements DunningPolicy {
  tenantId!: string;
  retryAfterDays!: number[];
  pastDueAfterDays!: number;
  suspendAfterDays!: number;
  cancelAfterDays!: number;
  archiveAfterDays!: number;
  updatedAt!: Date;

  constructor(props: { [K in keyof TenantDunningPolicy]: TenantDunningPolicy[K] }) {
    Object.assign(this, props);
  }
}
