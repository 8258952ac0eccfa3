import type { ComputedInvoice, Invoice, InvoiceLine } from "@arcadia/domain";

/** A stored invoice with its lines, as the API shows it. */
export interface InvoiceDocument {
  readonly invoice: Invoice;
  readonly lines: InvoiceLine[];
}

/** The current period's invoice as things stand (not stored). */
export interface UpcomingInvoice extends ComputedInvoice {
  readonly tenantId: string;
  readonly deploymentId: string;
  readonly subscriptionId: string;
}
