import { JsonText } from "@arcadia/db";
import type { Context, Next } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { principalFromHeader } from "../auth.ts";
import { toDomainError } from "../errors.ts";
import { execute } from "../executor.ts";
import type { Operation } from "../operations/operation.ts";
import { requestHeader } from "../request-header.ts";
import type { Services } from "../services.ts";
import { productErrorShape } from "./errors.ts";
import { MAX_BATCH_CALLS } from "./limits.ts";

/**
 * Direct dispatch of plain tRPC queries.
 *
 * tRPC's fetch adapter builds a web Request with abort signals for every call and runs the
 * procedure through its middleware chain: for a read that costs more CPU than the read itself
 * (see BENCHMARKS.md). The queries our clients send — `GET /trpc/<path>?input=…`, batched
 * (`?batch=1`, what `httpBatchLink` sends) or not — are simple enough to answer here with the
 * same operation table, the same executor and the same error shape as the router, byte for byte.
 *
 * Anything else falls through to tRPC's own adapter: mutations, streaming (`trpc-accept` or
 * `accept: application/jsonl`), another content type, a body, `connectionParams`, an unknown
 * procedure, input that is not JSON, a batch whose input is not an object, a batch over the limit. `direct.test.ts` sends
 * generated requests to both paths and requires identical answers.
 */
export function directQueries(services: Services, operations: readonly Operation[]) {
  const queries = new Map(operations.filter((op) => op.kind === "query").map((op) => [op.name, op]));

  return async (c: Context, next: Next) => {
    const calls = c.req.method === "GET" ? plainQueryCalls(c, queries) : null;
    if (!calls) return next();
    let principal: Awaited<ReturnType<typeof principalFromHeader>> | undefined;
    let refused: unknown;
    try {
      principal = await principalFromHeader(services, requestHeader(c, "authorization"));
    } catch (error) {
      refused = error;
    }
    const answers = await Promise.all(
      calls.calls.map(async ({ op, input }) => {
        try {
          if (!principal) throw refused;
          const { body } = await execute(services, op, principal, input);
          // JSON built by PostgreSQL is placed in the envelope as it came.
          const data = body instanceof JsonText ? body.text : JSON.stringify(body);
          return { status: 200, json: `{"result":{"data":${data}}}` };
        } catch (error) {
          const domain = toDomainError(error);
          if (domain.code === "INTERNAL") {
            services.logger.error("unexpected error", { path: op.name, err: error });
          }
          const shape = productErrorShape(domain, op.name);
          return { status: shape.data.httpStatus, json: JSON.stringify({ error: shape }) };
        }
      }),
    );
    // A batch answers with its calls' common status, or 207 when they differ (as tRPC does).
    let status = answers[0]!.status;
    for (const answer of answers) if (answer.status !== status) status = 207;
    const body = calls.batch ? `[${answers.map((a) => a.json).join(",")}]` : answers[0]!.json;
    return c.body(body, status as ContentfulStatusCode, DIRECT_HEADERS);
  };
}

const DIRECT_HEADERS = { "content-type": "application/json", vary: "trpc-accept, accept" };
const PROCEDURES = /^\/trpc\/([A-Za-z0-9_.,]+)$/;
const JSON_MEDIA_TYPE = "application/json";

interface PlainCalls {
  readonly batch: boolean;
  readonly calls: readonly { op: Operation; input: unknown }[];
}

/** The calls of a plain query request, or null when tRPC's own adapter should answer it. */
function plainQueryCalls(c: Context, queries: ReadonlyMap<string, Operation>): PlainCalls | null {
  const match = PROCEDURES.exec(c.req.path);
  if (!match) return null;
  const header = (name: string) => requestHeader(c, name);
  const contentType = header("content-type");
  if (contentType !== undefined && contentType.split(";", 1)[0]!.trim().toLowerCase() !== JSON_MEDIA_TYPE)
    return null;
  if (header("trpc-accept") !== undefined) return null;
  if (
    header("accept")
      ?.split(",")
      .some((type) => type.trim() === "application/jsonl")
  )
    return null;
  const length = header("content-length");
  if ((length !== undefined && length !== "0") || header("transfer-encoding") !== undefined) return null;

  const url = c.req.url;
  const mark = url.indexOf("?");
  const params = new URLSearchParams(mark < 0 ? "" : url.slice(mark + 1));
  if (params.has("connectionParams")) return null;
  const batch = params.get("batch") === "1";
  const names = batch ? match[1]!.split(",") : [match[1]!];
  if (names.length > MAX_BATCH_CALLS) return null;
  const ops: Operation[] = [];
  for (const name of names) {
    const op = queries.get(name);
    if (!op) return null;
    ops.push(op);
  }
  let inputs: unknown;
  const raw = params.get("input");
  if (raw) {
    try {
      inputs = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!batch) return { batch, calls: [{ op: ops[0]!, input: inputs }] };
  if (inputs !== undefined && (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)))
    return null;
  const byIndex = inputs as Record<string, unknown> | undefined;
  return { batch, calls: ops.map((op, index) => ({ op, input: byIndex?.[index] })) };
}
