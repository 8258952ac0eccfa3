import type { ComputedStatement, Statement, StatementLine } from "@arcadia/domain";

/** A stored statement with its lines, as the API shows it. */
export interface StatementDocument {
  readonly statement: Statement;
  readonly lines: StatementLine[];
}

/** The current period's statement as things stand (not stored). */
export interface UpcomingStatement extends ComputedStatement {
  readonly tenantId: string;
  readonly deploymentId: string;
  readonly subscriptionId: string;
}
