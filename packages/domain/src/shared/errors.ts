/**
 * Stable error codes of the product. Transports map each code to a status in one table of their own;
 * the domain never knows about HTTP.
 */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "TRANSITION_NOT_ALLOWED",
  "NOT_FOUND",
  "SLUG_TAKEN",
  "ALREADY_SUBSCRIBED",
  "CONFLICT",
  "INVALID_TRANSITION",
  "UNKNOWN_PLAN",
  "UNKNOWN_ADDON",
  "CURRENCY_MISMATCH",
  "DEPLOYMENT_NOT_SUBSCRIBABLE",
  "IDEMPOTENCY_KEY_REUSED",
  "NOT_A_SANDBOX",
  "CLOCK_BACKWARDS",
  "OVERPAYMENT",
  "INVOICE_NOT_OPEN",
  "NO_PAYMENT_METHOD",
  "UNSAFE_URL",
  "PAYLOAD_TOO_LARGE",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Record<string, unknown>;

/** An expected failure: a stable code, a human message and the context that explains it. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DomainError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string, details: ErrorDetails = {}): Result<T> {
  return { ok: false, error: new DomainError(code, message, details) };
}

/** Returns the value of a successful result, or throws its error (for use cases that abort a transaction). */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
