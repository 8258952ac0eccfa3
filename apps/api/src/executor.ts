import { isDeepStrictEqual } from "node:util";
import { JsonText, type KeyedResponse, runOnce, type UseCaseContext, useCaseContext } from "@arcadia/db";
import { DomainError, type Principal } from "@arcadia/domain";
import { validationError } from "./errors.ts";
import { acceptsNoInput, type Operation } from "./operations/operation.ts";
import type { Services } from "./services.ts";

export type Outcome = KeyedResponse;

export interface ExecuteOptions {
  /** The request's Idempotency-Key: a keyed mutation runs at most once (`runOnce` in packages/db). */
  readonly idempotencyKey?: string | null;
  /**
   * Who checks the input against the operation's schema: here, or the transport (tRPC's router).
   * The output is checked here for both, and only when `services.checkResponses` is on (not in
   * production).
   */
  readonly schemas?: "checked-here" | "checked-by-transport";
}

/** Whether any string or key in the input holds U+0000 (no allocation: most inputs hold none). */
function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && typeof value === "object") {
    for (const key in value) {
      if (key.includes("\u0000") || holdsNul((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
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

/**
 * The response as sent must be exactly what its schema makes of it: parsing must succeed and
 * change nothing (no stripped key, no default or transform), since production sends it unchecked.
 */
function checkResponse(services: Services, op: Operation, result: unknown): void {
  const value = result instanceof JsonText ? result.parse() : result;
  const shaped = op.output.safeParse(value);
  if (shaped.success && isDeepStrictEqual(shaped.data, value)) return;
  services.logger.error("response does not match its schema", {
    operation: op.name,
    ...(shaped.success ? { changedByParsing: true } : { issues: shaped.error.issues }),
  });
  throw new DomainError("INTERNAL", "Something went wrong on our side.");
}

/**
 * Runs one operation for a principal: validate the input, call the use case, check the output
 * against the operation's schema (outside production). The same path serves tRPC and REST, so both answer with identical JSON.
 */
export async function execute(
  services: Services,
  op: Operation,
  principal: Principal,
  rawInput: unknown,
  options: ExecuteOptions = {},
): Promise<Outcome> {
  const checkedHere = options.schemas !== "checked-by-transport";
  // The input as sent (`undefined` when there is none); a tRPC router has parsed it already.
  const given = rawInput === undefined && acceptsNoInput(op) ? {} : rawInput;
  const parsed = checkedHere ? op.input.safeParse(given) : { success: true as const, data: given };
  if (!parsed.success) throw validationError(parsed.error);
  if (holdsNul(parsed.data)) {
    throw new DomainError("VALIDATION_FAILED", "The request is not valid.", {
      fields: Object.fromEntries(nulPaths(parsed.data).map((p) => [p, "must not contain NUL characters"])),
    });
  }
  const { idempotencyKey } = options;
  if (op.kind !== "mutation" || idempotencyKey == null) {
    // The unit of work is forked from the root only if the use case needs one. (No closure here:
    // this is every read's path.)
    const ctx = useCaseContext(services.orm.em, services.now, services.regions, { lazy: true });
    const body = await op.run({ ctx, principal, services }, parsed.data as never);
    if (services.checkResponses !== false) checkResponse(services, op, body);
    return { status: op.status, body, replayed: false };
  }
  const run = async (ctx: UseCaseContext) => {
    const result = await op.run({ ctx, principal, services }, parsed.data as never);
    if (services.checkResponses !== false) checkResponse(services, op, result);
    return result;
  };
  return runOnce(
    services.orm,
    services.now,
    { principalId: principal.id, key: idempotencyKey, operation: op.name, input: parsed.data },
    async (em) => ({
      status: op.status,
      body: await run(useCaseContext(em, services.now, services.regions)),
    }),
  );
}
