import { ZError } from "@arcadia/contract";
import { z } from "zod";
import { STATUS_OF } from "../errors.ts";
import { type Operation, pathParams } from "../operations/operation.ts";
import { REST_BASE } from "../rest/routes.ts";

type JsonSchema = Record<string, unknown>;

/** Converts a zod schema, hoisting named schemas into components and pointing refs there. */
function toSchema(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, JsonSchema>,
): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  const rewritten = JSON.parse(
    JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as JsonSchema;
  const {
    $schema: _schema,
    $defs,
    ...root
  } = rewritten as JsonSchema & { $defs?: Record<string, JsonSchema> };
  for (const [name, def] of Object.entries($defs ?? {})) components[name] ??= def;
  return root;
}

function errorResponses(op: Operation): Record<string, unknown> {
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
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    ]),
  );
}

/** The OpenAPI 3.1 document of the REST API, generated from the same operations and schemas it serves. */
export function openApiDocument(operations: readonly Operation[]): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  toSchema(ZError, "output", components);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = pathParams(op.path);
    const input = toSchema(op.input, "input", components) as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    const properties = input.properties ?? {};
    const required = new Set(input.required ?? []);
    const parameters = params.map((name) => ({
      name,
      in: "path",
      required: true,
      schema: properties[name] ?? { type: "string" },
    }));
    const bodyProperties = Object.fromEntries(
      Object.entries(properties).filter(([name]) => !params.includes(name)),
    );
    if (op.method === "get") {
      for (const [name, schema] of Object.entries(bodyProperties)) {
        parameters.push({ name, in: "query", required: required.has(name), schema });
      }
    }
    const hasBody = op.method === "post" || op.method === "patch";
    const bodyRequired = [...required].filter((name) => !params.includes(name));
    const headers =
      op.method === "post"
        ? [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", maxLength: 255 },
              description: "Replays the first response for 24 h",
            },
          ]
        : [];
    const path = REST_BASE + op.path;
    paths[path] ??= {};
    paths[path][op.method] = {
      operationId: op.name,
      summary: op.summary,
      description: `Who: ${op.access}. tRPC: \`${op.name}\`.`,
      tags: [op.name.split(".")[0]],
      parameters: [...parameters, ...headers],
      ...(hasBody
        ? {
            requestBody: {
              required: bodyRequired.length > 0,
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: bodyProperties,
                    required: bodyRequired,
                    additionalProperties: false,
                  },
                },
              },
            },
          }
        : {}),
      responses: {
        [String(op.status)]: {
          description: op.summary,
          content: { "application/json": { schema: toSchema(op.output, "output", components) } },
        },
        ...errorResponses(op),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Arcadia Cloud billing core",
      version: "1.0.0",
      description:
        "Tenants, deployments and their lifecycle, subscriptions to a versioned catalog, and statements. Every operation is also served over tRPC at /trpc.",
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
      schemas: components,
    },
  };
}
