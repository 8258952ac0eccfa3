import { ZError } from "@arcadia/contract";
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { STATUS_OF } from "../errors.ts";
import { type Operation, pathParams } from "../operations/operation.ts";
import { REST_BASE } from "../rest/routes.ts";

const ZIdempotencyKeyHeader = z.object({
  "Idempotency-Key": z
    .string()
    .max(255)
    .optional()
    .meta({ description: "Replays the first response for 24 h" }),
});

function errorResponses(op: Operation) {
  const statuses = new Set([400, 401, 413, 500, ...(op.access === "any" ? [] : [403])]);
  if (op.path.includes("{")) statuses.add(404);
  if (op.kind === "mutation") {
    statuses.add(403);
    statuses.add(409);
    statuses.add(422);
  }
  const codesByStatus = new Map<number, string[]>();
  for (const [code, status] of Object.entries(STATUS_OF))
    codesByStatus.set(status, [...(codesByStatus.get(status) ?? []), code]);
  return Object.fromEntries(
    [...statuses].sort().map((status) => [
      String(status),
      {
        description: `Error: ${(codesByStatus.get(status) ?? []).join(" | ")}`,
        content: { "application/json": { schema: ZError } },
      },
    ]),
  );
}

/** An operation as OpenAPI describes it: path params, then query (GET) or JSON body, from its one input schema. */
function operationObject(op: Operation): ZodOpenApiOperationObject {
  const params = pathParams(op.path);
  const fields = Object.entries(op.input.shape);
  const path = z.strictObject(Object.fromEntries(fields.filter(([name]) => params.includes(name))));
  const rest = z.strictObject(Object.fromEntries(fields.filter(([name]) => !params.includes(name))));
  const hasBody = op.method === "post" || op.method === "put" || op.method === "patch";
  return {
    operationId: op.name,
    summary: op.summary,
    description: `Who: ${op.access}. tRPC: \`${op.name}\`.`,
    tags: [op.name.split(".")[0]!],
    requestParams: {
      ...(params.length > 0 ? { path } : {}),
      ...(op.method === "get" ? { query: rest } : {}),
      ...(op.method === "post" ? { header: ZIdempotencyKeyHeader } : {}),
    },
    ...(hasBody
      ? {
          requestBody: {
            required: !rest.safeParse({}).success,
            content: { "application/json": { schema: rest } },
          },
        }
      : {}),
    responses: {
      [String(op.status)]: {
        description: op.summary,
        content: { "application/json": { schema: op.output } },
      },
      ...errorResponses(op),
    },
  };
}

/** The OpenAPI 3.1 document of the REST API, generated from the same operations and schemas it serves. */
export function openApiDocument(operations: readonly Operation[]) {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of operations) {
    const path = REST_BASE + op.path;
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Arcadia Cloud billing core",
      version: "1.0.0",
      description:
        "Tenants, deployments and their lifecycle, subscriptions to a versioned catalog, and invoices. Every operation is also served over tRPC at /trpc.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths: {
      ...paths,
      "/healthz": {
        get: { summary: "Process is up", security: [], responses: { "200": { description: "up" } } },
      },
      "/readyz": {
        get: {
          summary: "Database reachable",
          security: [],
          responses: { "200": { description: "ready" }, "503": { description: "database unreachable" } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API token: Authorization: Bearer <token>",
        },
      },
    },
  });
}
