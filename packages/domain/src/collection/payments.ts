import { fail, ok, type Result } from "../shared/errors.ts";
import type { Cents } from "../shared/money.ts";

export const PAYMENT_METHODS = ["manual", "provider"] as const;
export type PaymentMethodKind = (typeof PAYMENT_METHODS)[number];
export const PAYMENT_STATUSES = ["pending", "succeeded", "failed", "unknown"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** One payment or payment attempt on an invoice (SPEC §3.8). */
export class Payment {
  id!: string;
  invoiceId!: string;
  tenantId!: string;
  amountCents!: Cents;
  currency!: string;
  method!: PaymentMethodKind;
  provider!: string | null;
  providerRef!: string | null;
  status!: PaymentStatus;
  failureCode!: string | null;
  /** Automatic attempts are numbered per invoice (1 = at issue, then one per retry slot); manual ones have none. */
  attempt!: number | null;
  /** The operator's note for a manual payment (a bank reference, …). */
  reference!: string | null;
  /** The tenant payment method an attempt charged (a permanent failure blocks retries until it changes). */
  paymentMethodId!: string | null;
  /** True when a failure may succeed on a later attempt. */
  retryable!: boolean | null;
  createdAt!: Date;
  settledAt!: Date | null;

  constructor(props: { [K in keyof Payment]: Payment[K] }) {
    Object.assign(this, props);
  }
}

/** The provider's idempotency key of an automatic attempt: the same attempt is never charged twice. */
export function chargeKey(invoiceId: string, attempt: number): string {
  return `${invoiceId}:${attempt}`;
}

export const PAYMENT_REFERENCE_MAX = 200;

// ---- Payment providers -------------------------------------------------------------------------

export interface ChargeRequest {
  readonly invoiceId: string;
  readonly amountCents: Cents;
  readonly currency: string;
  readonly paymentMethodToken: string;
  readonly idempotencyKey: string;
}

export type ChargeOutcome =
  | { readonly status: "succeeded"; readonly providerRef: string }
  | {
      readonly status: "failed";
      readonly code: string;
      readonly retryable: boolean;
      readonly providerRef?: string;
    }
  | { readonly status: "unknown" };

/** What a provider knows of a charge by its idempotency key (`not_found`: it never received it). */
export type LookupOutcome = ChargeOutcome | { readonly status: "not_found" };

/**
 * Everything collection needs from a payment provider. A real one (Stripe) is one more adapter;
 * collection never changes for it. `charge` must be idempotent on `idempotencyKey`.
 */
export interface PaymentProvider {
  readonly name: string;
  /** Whether a payment-method token is one this provider can charge. */
  acceptsToken(token: string): boolean;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  lookup(idempotencyKey: string): Promise<LookupOutcome>;
}

// ---- The sandbox provider's rules (its storage lives with the database) --------------------------

export const SANDBOX_PROVIDER = "sandbox";
export const SANDBOX_TOKENS = [
  "tok_ok",
  "tok_declined",
  "tok_insufficient_funds",
  "tok_lost_card",
  "tok_timeout",
] as const;
export type SandboxToken = (typeof SANDBOX_TOKENS)[number];

/**
 * The sandbox's deterministic answer for a token: what it records, and what the charge call
 * answers (a timeout answers `unknown` although the charge went through; a lookup then finds it).
 */
export function sandboxOutcome(token: string): {
  recorded: "succeeded" | "failed";
  code: string | null;
  retryable: boolean;
  answersUnknown: boolean;
} {
  switch (token) {
    case "tok_ok":
      return { recorded: "succeeded", code: null, retryable: false, answersUnknown: false };
    case "tok_timeout":
      return { recorded: "succeeded", code: null, retryable: false, answersUnknown: true };
    case "tok_declined":
      return { recorded: "failed", code: "card_declined", retryable: true, answersUnknown: false };
    case "tok_insufficient_funds":
      return { recorded: "failed", code: "insufficient_funds", retryable: true, answersUnknown: false };
    case "tok_lost_card":
      return { recorded: "failed", code: "lost_card", retryable: false, answersUnknown: false };
    default:
      return { recorded: "failed", code: "invalid_token", retryable: false, answersUnknown: false };
  }
}

// ---- Tenant payment methods ---------------------------------------------------------------------

/** A tenant's one payment method: a provider and its token (never shown back whole). */
export class PaymentMethod {
  id!: string;
  tenantId!: string;
  provider!: string;
  token!: string;
  createdAt!: Date;

  constructor(props: { [K in keyof PaymentMethod]: PaymentMethod[K] }) {
    Object.assign(this, props);
  }
}

export function tokenLast4(token: string): string {
  return token.slice(-4);
}

export function validatePaymentMethod(
  input: { provider: string; token: string },
  providers: readonly Pick<PaymentProvider, "name" | "acceptsToken">[],
): Result<{ provider: string; token: string }> {
  const provider = providers.find((p) => p.name === input.provider);
  if (!provider) {
    return fail("VALIDATION_FAILED", "The payment method is not valid.", {
      fields: { provider: `must be one of ${providers.map((p) => p.name).join(", ")}` },
    });
  }
  if (!provider.acceptsToken(input.token)) {
    return fail("VALIDATION_FAILED", "The payment method is not valid.", {
      fields: { token: `is not a ${provider.name} token` },
    });
  }
  return ok(input);
}
