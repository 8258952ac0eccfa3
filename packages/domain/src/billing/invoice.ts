import { type Interval, intersect, overlapMs } from "../shared/intervals.ts";
import { type Cents, prorate, sumCents } from "../shared/money.ts";
import { type Period, periodLengthMs } from "../shared/periods.ts";
import { billableIntervals, type StateChange } from "./billable-time.ts";

/**
 * The order plan changes apply in: by effective instant, and among changes effective at the same
 * instant in the order they were made (`sequence`), so the last one made holds (SPEC §3.4).
 * Instants alone tie: a frozen test clock, or two changes within one millisecond.
 */
export function inEffectOrder(
  a: { readonly effectiveAt: Date; readonly sequence: number },
  b: { readonly effectiveAt: Date; readonly sequence: number },
): number {
  return a.effectiveAt.getTime() - b.effectiveAt.getTime() || a.sequence - b.sequence;
}

/** One plan version billed from when it took effect until the next segment begins. */
export interface PlanSegmentSource {
  readonly planVersion: {
    readonly id: string;
    readonly planCode: string;
    readonly version: number;
    readonly priceCents: Cents;
  };
  readonly effectiveAt: Date;
  /** The change's place in the subscription's log: among changes effective at one instant, the last holds. */
  readonly sequence: number;
}

export interface AttachmentSource {
  readonly id: string;
  readonly addonCode: string;
  readonly priceCents: Cents;
  readonly qty: string;
  readonly attachedAt: Date;
  readonly detachedAt: Date | null;
}

export interface InvoiceInput {
  readonly period: Period;
  readonly currency: string;
  /** When the subscription began: nothing before it is billed. */
  readonly subscribedAt: Date;
  /** The plan-version history in force (superseded scheduled changes left out), in any order. */
  readonly planChanges: readonly PlanSegmentSource[];
  readonly attachments: readonly AttachmentSource[];
  /** The deployment's event log (at least up to the period's end), in any order. */
  readonly events: readonly StateChange[];
}

export const LINE_KINDS = ["plan", "addon"] as const;
export type InvoiceLineKind = (typeof LINE_KINDS)[number];

export interface ComputedLine {
  readonly kind: InvoiceLineKind;
  readonly description: string;
  readonly refId: string;
  readonly unitPriceCents: Cents;
  readonly billableMs: number;
  readonly periodMs: number;
  readonly amountCents: Cents;
}

export interface ComputedInvoice {
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly currency: string;
  readonly totalCents: Cents;
  readonly lines: readonly ComputedLine[];
}

function describeShare(billableMs: number, periodMs: number): string {
  const hours = (ms: number) => {
    const tenths = Math.round(ms / 360_000); // display only; amounts never use this
    return `${Math.trunc(tenths / 10)}.${tenths % 10}h`;
  };
  return `${hours(billableMs)} billable of ${hours(periodMs)}`;
}

/**
 * The invoice of one subscription for one period (SPEC §3.5), as a pure function of the
 * snapshots and the event log. Each line is round_half_even(price × |billable ∩ its interval| / |P|);
 * lines with no billable time are left out. Used both to issue invoices and for the upcoming one.
 */
export function invoiceForPeriod(input: InvoiceInput): ComputedInvoice {
  const { period } = input;
  const periodMs = periodLengthMs(period);
  const window: Interval = {
    start: Math.max(period.start.getTime(), input.subscribedAt.getTime()),
    end: period.end.getTime(),
  };
  const billable = billableIntervals(input.events, period.end)
    .map((interval) => intersect(interval, window))
    .filter((interval): interval is Interval => interval !== null);

  const lines: ComputedLine[] = [];
  const changes = [...input.planChanges].sort(inEffectOrder);
  changes.forEach((change, index) => {
    const next = changes[index + 1];
    const segment: Interval = {
      start: change.effectiveAt.getTime(),
      end: next ? next.effectiveAt.getTime() : Number.POSITIVE_INFINITY,
    };
    const billableMs = overlapMs(billable, segment);
    if (billableMs === 0) return;
    const { planVersion } = change;
    lines.push({
      kind: "plan",
      description: `Plan ${planVersion.planCode} v${planVersion.version}: ${describeShare(billableMs, periodMs)}`,
      refId: planVersion.id,
      unitPriceCents: planVersion.priceCents,
      billableMs,
      periodMs,
      amountCents: prorate(planVersion.priceCents, billableMs, periodMs),
    });
  });

  const attachments = [...input.attachments].sort(
    (a, b) => a.attachedAt.getTime() - b.attachedAt.getTime() || a.id.localeCompare(b.id),
  );
  for (const attachment of attachments) {
    const interval: Interval = {
      start: attachment.attachedAt.getTime(),
      end: attachment.detachedAt ? attachment.detachedAt.getTime() : Number.POSITIVE_INFINITY,
    };
    const billableMs = overlapMs(billable, interval);
    if (billableMs === 0) continue;
    lines.push({
      kind: "addon",
      description: `Add-on ${attachment.addonCode} (${attachment.qty}): ${describeShare(billableMs, periodMs)}`,
      refId: attachment.id,
      unitPriceCents: attachment.priceCents,
      billableMs,
      periodMs,
      amountCents: prorate(attachment.priceCents, billableMs, periodMs),
    });
  }

  return {
    periodStart: period.start,
    periodEnd: period.end,
    currency: input.currency,
    totalCents: sumCents(lines.map((line) => line.amountCents)),
    lines,
  };
}

/** An invoice's status (SPEC §3.8): open while money is due, then paid, void or uncollectible. */
export const INVOICE_STATUSES = ["open", "paid", "void", "uncollectible"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** An issued invoice: exactly one per subscription and period. */
export class Invoice {
  id!: string;
  number!: string;
  tenantId!: string;
  deploymentId!: string;
  subscriptionId!: string;
  periodStart!: Date;
  periodEnd!: Date;
  currency!: string;
  totalCents!: Cents;
  status!: InvoiceStatus;
  /** The sum of the invoice's succeeded payments; never above the total. */
  amountPaidCents!: Cents;
  issuedAt!: Date;
  /** issuedAt + the tenant's payment terms. */
  dueAt!: Date;
  paidAt!: Date | null;
  voidedAt!: Date | null;
  /** When collection announced it overdue (`invoice.overdue`, once); null until then. */
  overdueAt!: Date | null;

  constructor(props: { [K in keyof Invoice]: Invoice[K] }) {
    Object.assign(this, props);
  }
}

export class InvoiceLine implements ComputedLine {
  id!: string;
  invoiceId!: string;
  position!: number;
  kind!: InvoiceLineKind;
  description!: string;
  refId!: string;
  unitPriceCents!: Cents;
  billableMs!: number;
  periodMs!: number;
  amountCents!: Cents;

  constructor(props: { [K in keyof InvoiceLine]: InvoiceLine[K] }) {
    Object.assign(this, props);
  }
}
