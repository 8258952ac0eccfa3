import { JsonText } from "@arcadia/db";
import { DomainError } from "@arcadia/domain";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { principalFromHeader } from "../auth.ts";
import { execute } from "../executor.ts";
import { type Operation, pathParams } from "../operations/operation.ts";
import { requestHeader } from "../request-header.ts";
import type { Services } from "../services.ts";
import { bodyText, MAX_BODY_BYTES } from "./body.ts";

export const REST_BASE = "/api/v1";
const JSON_HEADERS = { "content-type": "application/json" };

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await bodyText(c, MAX_BODY_BYTES);
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DomainError("VALIDATION_FAILED", "The body is not valid JSON.", {
      fields: { "(body)": "malformed JSON" },
    });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new DomainError("VALIDATION_FAILED", "The body must be a JSON object.", {
      fields: { "(body)": "expected an object" },
    });
  }
  return body as Record<string, unknown>;
}

/**
 * Registers every operation as a REST route: path parameters, the query string (GET) or the JSON
 * body (POST/PATCH) become the operation's input. A body may not set a path parameter.
 */
export function mountRest(app: Hono, services: Services, operations: readonly Operation[]): void {
  for (const op of operations) {
    const params = pathParams(op.path);
    const route = REST_BASE + op.path.replace(/\{(\w+)\}/g, ":$1");
    app.on(op.method.toUpperCase(), route, async (c) => {
      const principal = await principalFromHeader(services, requestHeader(c, "authorization"));
      const fromPath = Object.fromEntries(params.map((p) => [p, c.req.param(p)]));
      let fields: Record<string, unknown> = {};
      if (op.method === "get") fields = c.req.query();
      else if (op.method !== "delete") fields = await jsonBody(c);
      const clash = params.filter((p) => p in fields);
      if (clash.length > 0) {
        throw new DomainError("VALIDATION_FAILED", "The request is not valid.", {
          fields: Object.fromEntries(clash.map((p) => [p, "unknown field (it is part of the path)"])),
        });
      }
      const outcome = await execute(
        services,
        op,
        principal,
        { ...fields, ...fromPath },
        {
          idempotencyKey: requestHeader(c, "idempotency-key"),
        },
      );
      if (outcome.replayed) c.header("Idempotent-Replayed", "true");
      // JSON built by PostgreSQL goes out as it came (the header c.json would have set).
      if (outcome.body instanceof JsonText) {
        return c.body(outcome.body.text, outcome.status as ContentfulStatusCode, JSON_HEADERS);
      }
      return c.json(outcome.body as object, outcome.status as ContentfulStatusCode);
    });
  }
}
