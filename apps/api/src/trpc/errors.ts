import { DomainError } from "@arcadia/domain";
import type { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { errorBody, STATUS_OF, toDomainError, validationError } from "../errors.ts";
import { MAX_BATCH_CALLS } from "./limits.ts";

/**
 * How a product error travels over tRPC: under which tRPC code, and in which shape. The router's
 * error formatter (router.ts) and the direct query path (direct.ts) both shape errors here.
 */

const TRPC_CODE_OF: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  422: "UNPROCESSABLE_CONTENT",
  500: "INTERNAL_SERVER_ERROR",
};

/** The product's error for a tRPC error: ours travel as the cause; tRPC's own are translated. */
export function domainErrorOf(error: TRPCError): DomainError {
  const cause = error.cause;
  if (cause instanceof DomainError) return cause;
  if (error.code === "BAD_REQUEST" && cause instanceof ZodError) return validationError(cause);
  if (error.code === "BAD_REQUEST" && error.message === "Batch call exceeds maximum size") {
    return new DomainError("VALIDATION_FAILED", `A batch may carry at most ${MAX_BATCH_CALLS} calls.`, {
      fields: { "(batch)": `at most ${MAX_BATCH_CALLS} calls` },
    });
  }
  if (error.code === "PARSE_ERROR" || error.code === "BAD_REQUEST") {
    return new DomainError("VALIDATION_FAILED", "The request is not valid.", {
      fields: { "(input)": "malformed" },
    });
  }
  if (error.code === "NOT_FOUND" || error.code === "METHOD_NOT_SUPPORTED") {
    return new DomainError("NOT_FOUND", "No such procedure.");
  }
  if (error.code === "PAYLOAD_TOO_LARGE")
    return new DomainError("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB.");
  if (error.code === "UNSUPPORTED_MEDIA_TYPE") {
    return new DomainError("VALIDATION_FAILED", "Send the input as JSON.", {
      fields: { "content-type": "must be application/json" },
    });
  }
  // Any other 4xx is tRPC's own refusal of the request (ours carry a DomainError): not our fault.
  if (getHTTPStatusCodeFromError(error) < 500) {
    return new DomainError("VALIDATION_FAILED", "The request is not valid.");
  }
  return toDomainError(cause);
}

/** The tRPC code a product error travels under (its HTTP status's; INTERNAL_SERVER_ERROR if none). */
export function trpcCodeOf(domain: DomainError): TRPC_ERROR_CODE_KEY {
  return TRPC_CODE_OF[STATUS_OF[domain.code]] ?? "INTERNAL_SERVER_ERROR";
}

/**
 * The error a tRPC client receives: the JSON-RPC `code` number, our message, and in `data` the
 * product's stable code, HTTP status, the procedure's path and any details. The router's
 * formatter and the direct query path (direct.ts) both build it here.
 */
export function errorShape(domain: DomainError, jsonRpcCode: number, path: string | undefined) {
  const { error: body } = errorBody(domain);
  return {
    code: jsonRpcCode,
    message: body.message,
    data: {
      code: body.code,
      httpStatus: STATUS_OF[body.code],
      path,
      ...(body.details ? { details: body.details } : {}),
    },
  };
}

/** The shape for a product error raised in a procedure (what `rethrow` below makes of it). */
export function productErrorShape(domain: DomainError, path: string | undefined) {
  return errorShape(domain, TRPC_ERROR_CODES_BY_KEY[trpcCodeOf(domain)], path);
}
