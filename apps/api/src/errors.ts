import { DomainError, type ErrorCode, type ErrorDetails } from "@arcadia/domain";
import { z } from "zod";

/** The one table from stable error code to HTTP status (both transports use it). */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  TRANSITION_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  SLUG_TAKEN: 409,
  ALREADY_SUBSCRIBED: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_TRANSITION: 422,
  UNKNOWN_PLAN: 422,
  UNKNOWN_ADDON: 422,
  CURRENCY_MISMATCH: 422,
  DEPLOYMENT_NOT_SUBSCRIBABLE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  NOT_A_SANDBOX: 422,
  CLOCK_BACKWARDS: 422,
  OVERPAYMENT: 422,
  INVOICE_NOT_OPEN: 422,
  NO_PAYMENT_METHOD: 422,
  UNSAFE_URL: 422,
  INTERNAL: 500,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
}

/** The failing fields of a zod error, as `{ "path.to.field": "message" }`. */
export function fieldsOf(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) fields[[...issue.path, key].join(".")] = "unknown field";
    } else {
      fields[issue.path.join(".") || "(body)"] = issue.message;
    }
  }
  return fields;
}

export function validationError(error: z.ZodError): DomainError {
  return new DomainError("VALIDATION_FAILED", "The request is not valid.", { fields: fieldsOf(error) });
}

/**
 * Any thrown value as a DomainError. Expected failures keep their code; anything else becomes
 * INTERNAL with a generic message, so no stack, SQL or path ever reaches a response.
 */
export function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  if (error instanceof z.ZodError) return validationError(error);
  return new DomainError("INTERNAL", "Something went wrong on our side.");
}

export function errorBody(error: DomainError): ErrorBody {
  const hasDetails = Object.keys(error.details).length > 0;
  return {
    error: { code: error.code, message: error.message, ...(hasDetails ? { details: error.details } : {}) },
  };
}
