import { createHash } from "node:crypto";
import {
  IDEMPOTENCY_WINDOW_MS,
  IdempotencyRecord,
  newId,
  type UseCaseContext,
  useCaseContext,
} from "@arcadia/db";
import { DomainError, type Principal } from "@arcadia/domain";
import { validationError } from "./errors.ts";
import type { Operation } from "./operations/operation.ts";
import type { Services } from "./services.ts";

export interface Outcome {
  readonly status: number;
  readonly body: unknown;
  readonly replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Paths of strings holding U+0000, which PostgreSQL text cannot store. */
function nulPaths(value: unknown, path: string[] = []): string[] {
  if (typeof value === "string") return value.includes("\u0000") ? [path.join(".") || "(input)"] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => nulPaths(item, [...path, String(i)]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => [
      ...(key.includes("\u0000") ? [[...path, key].join(".")] : []),
      ...nulPaths(item, [...path, key]),
    ]);
  }
  return [];
}

function contextFor(services: Services, em: UseCaseContext["em"], lazy: boolean): UseCaseContext {
  return useCaseContext(em, services.now, services.regions, { lazy });
}

/**
 * Runs one operation for a principal: validate the input, call the use case, shape the output with
 * the operation's schema. The same path serves tRPC and REST, so both answer with identical JSON.
 */
export async function execute(
  services: Services,
  op: Operation,
  principal: Principal,
  rawInput: unknown,
  idempotencyKey?: string | null,
  /** False when the transport already validates input and output with the same schemas (tRPC). */
  validate = true,
): Promise<Outcome> {
  // The input as sent (`undefined` when there is none); a tRPC router has parsed it already.
  const parsed = validate ? op.input.safeParse(rawInput) : { success: true as const, data: rawInput };
  if (!parsed.success) throw validationError(parsed.error);
  const withNul = nulPaths(parsed.data);
  if (withNul.length > 0) {
    throw new DomainError("VALIDATION_FAILED", "The request is not valid.", {
      fields: Object.fromEntries(withNul.map((p) => [p, "must not contain NUL characters"])),
    });
  }
  // Without an Idempotency-Key, the unit of work is forked from the root only if the use case needs one.
  const run = async (em: UseCaseContext["em"], { lazy = false } = {}) => {
    const result = await op.run(
      { ctx: contextFor(services, em, lazy), principal, services },
      parsed.data as never,
    );
    if (!validate) return result;
    const shaped = op.output.safeParse(result);
    if (!shaped.success) {
      services.logger.error("response does not match its schema", {
        operation: op.name,
        issues: shaped.error.issues,
      });
      throw new DomainError("INTERNAL", "Something went wrong on our side.");
    }
    return shaped.data;
  };
  if (op.kind !== "mutation" || idempotencyKey == null) {
    return { status: op.status, body: await run(services.orm.em, { lazy: true }), replayed: false };
  }
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new DomainError("VALIDATION_FAILED", "The Idempotency-Key header is not valid.", {
      fields: { "Idempotency-Key": "1–255 visible ASCII characters" },
    });
  }
  return idempotent(services, op, principal, idempotencyKey, parsed.data, run);
}

/**
 * The first response to (principal, key) is stored in the same transaction as the work, under an
 * advisory lock on the key: a concurrent duplicate waits, then replays it; a crash stores neither.
 * Only successes are stored — a rejected request changed nothing, so a retry is judged afresh.
 */
async function idempotent(
  services: Services,
  op: Operation,
  principal: Principal,
  key: string,
  input: unknown,
  run: (em: UseCaseContext["em"]) => Promise<unknown>,
): Promise<Outcome> {
  const requestHash = createHash("sha256")
    .update(`${op.name}\n${canonicalJson(input)}`)
    .digest("hex");
  return services.orm.em.fork().transactional(async (em) => {
    await em.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [`${principal.id}\n${key}`]);
    const now = services.now();
    const previous = await em.findOne(IdempotencyRecord, { principalId: principal.id, key });
    if (previous && now.getTime() - previous.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) {
      if (previous.requestHash !== requestHash) {
        throw new DomainError(
          "IDEMPOTENCY_KEY_REUSED",
          "This Idempotency-Key was used with a different request.",
        );
      }
      return { status: previous.statusCode, body: previous.responseBody, replayed: true };
    }
    if (previous) em.remove(previous);
    const body = await run(em);
    em.persist(
      new IdempotencyRecord({
        id: newId(now.getTime()),
        principalId: principal.id,
        key,
        requestHash,
        statusCode: op.status,
        responseBody: body,
        createdAt: now,
      }),
    );
    return { status: op.status, body, replayed: false };
  });
}
