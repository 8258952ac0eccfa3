import {
  type ChargeOutcome,
  type ChargeRequest,
  type LookupOutcome,
  type PaymentProvider,
  SANDBOX_PROVIDER,
  SANDBOX_TOKENS,
  sandboxOutcome,
} from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { type Sql, withConnection } from "../shared/sql.ts";

interface ChargeRow {
  status: "succeeded" | "failed";
  failure_code: string | null;
  retryable: boolean;
  charge_ref: string;
  token: string;
}

const outcomeOf = (row: ChargeRow): ChargeOutcome =>
  row.status === "succeeded"
    ? { status: "succeeded", providerRef: row.charge_ref }
    : {
        status: "failed",
        code: row.failure_code ?? "failed",
        retryable: row.retryable,
        providerRef: row.charge_ref,
      };

/**
 * The built-in `sandbox` provider (SPEC §3.8), deterministic by token. It keeps its own books in
 * `sandbox_charges`, one row per idempotency key, written in its own transaction (autocommit on a
 * connection of its own, never the caller's transaction) — as an outside provider would: a crash
 * between its charge and our record of it leaves the charge there for `lookup` to find, and a second
 * `charge` with the same key answers the first one's result instead of charging again.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = SANDBOX_PROVIDER;

  /**
   * `orm.em` gives the pool its connections come from (a fork never joins an open transaction);
   * `within`, an open transaction to keep the books in instead (a test clock's advance).
   */
  constructor(
    private readonly orm: { readonly em: EntityManager },
    private readonly within?: EntityManager,
  ) {}

  private books<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return withConnection(this.within ?? this.orm.em.fork(), work);
  }

  acceptsToken(token: string): boolean {
    return (SANDBOX_TOKENS as readonly string[]).includes(token);
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const decided = sandboxOutcome(request.paymentMethodToken);
    const row = await this.books(async (sql) => {
      const [inserted] = await sql<ChargeRow>(
        `insert into sandbox_charges (idempotency_key, invoice_id, amount_cents, currency, token, status, failure_code, retryable, charge_ref, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'ch_' || replace(gen_random_uuid()::text, '-', ''), clock_timestamp())
         on conflict (idempotency_key) do nothing
         returning status, failure_code, retryable, charge_ref, token`,
        [
          request.idempotencyKey,
          request.invoiceId,
          request.amountCents,
          request.currency,
          request.paymentMethodToken,
          decided.recorded,
          decided.code,
          decided.retryable,
        ],
      );
      if (inserted) return { ...inserted, fresh: true };
      const [existing] = await sql<ChargeRow>(
        "select status, failure_code, retryable, charge_ref, token from sandbox_charges where idempotency_key = $1",
        [request.idempotencyKey],
      );
      return { ...existing!, fresh: false };
    });
    // A timeout: the charge went through, but the caller never hears so.
    if (row.fresh && decided.answersUnknown) return { status: "unknown" };
    return outcomeOf(row);
  }

  async lookup(idempotencyKey: string): Promise<LookupOutcome> {
    const [row] = await this.books((sql) =>
      sql<ChargeRow>(
        "select status, failure_code, retryable, charge_ref, token from sandbox_charges where idempotency_key = $1",
        [idempotencyKey],
      ),
    );
    return row ? outcomeOf(row) : { status: "not_found" };
  }
}

/** The payment providers collection can charge through, by name. */
export type PaymentProviders = ReadonlyMap<string, PaymentProvider>;

export function defaultPaymentProviders(
  orm: { readonly em: EntityManager },
  within?: EntityManager,
): PaymentProviders {
  const sandbox = new SandboxProvider(orm, within);
  return new Map([[sandbox.name, sandbox]]);
}
