import { JsonText } from "@arcadia/db";
import type { Principal } from "@arcadia/domain";
import { type AnyProcedure, initTRPC, TRPCError } from "@trpc/server";
import type { z } from "zod";
import { principalFromHeader } from "../auth.ts";
import { toDomainError } from "../errors.ts";
import { execute } from "../executor.ts";
import { allOperations, type TableOperation } from "../operations/index.ts";
import { acceptsNoInput, type Operation } from "../operations/operation.ts";
import type { Services } from "../services.ts";
import { domainErrorOf, errorShape, trpcCodeOf } from "./errors.ts";

export interface TrpcContext {
  readonly services: Services;
  readonly authorization: string | undefined;
  readonly idempotencyKey: string | undefined;
  /** The response's headers (the fetch adapter's), for `Idempotent-Replayed`. */
  readonly resHeaders?: Headers;
}

const t = initTRPC.context<TrpcContext>().create({
  isDev: false,
  errorFormatter: ({ shape, error }) => errorShape(domainErrorOf(error), shape.code, shape.data.path),
});

function rethrow(error: unknown): never {
  const domain = toDomainError(error);
  throw new TRPCError({
    code: trpcCodeOf(domain),
    message: domain.message,
    // An unexpected error travels as itself, so that onError logs what actually went wrong.
    cause: domain.code === "INTERNAL" && error instanceof Error ? error : domain,
  });
}

const authed = t.procedure.use(async ({ ctx, next }) => {
  let principal: Principal;
  try {
    principal = await principalFromHeader(ctx.services, ctx.authorization);
  } catch (error) {
    rethrow(error);
  }
  return next({ ctx: { ...ctx, principal } });
});

async function run<I extends z.ZodObject, O extends z.ZodType>(
  op: Operation<I, O>,
  ctx: TrpcContext & { principal: Principal },
  input: z.output<I> | undefined,
): Promise<z.output<O>> {
  try {
    const outcome = await execute(ctx.services, op as unknown as Operation, ctx.principal, input, {
      idempotencyKey: ctx.idempotencyKey,
      schemas: "checked-by-transport",
    });
    // As over REST: a replayed answer says so.
    if (outcome.replayed) ctx.resHeaders?.set("Idempotent-Replayed", "true");
    // tRPC's adapter checks and serialises values: JSON text from PostgreSQL becomes one here.
    const body = outcome.body instanceof JsonText ? outcome.body.parse() : outcome.body;
    return body as z.output<O>;
  } catch (error) {
    rethrow(error);
  }
}

/** An operation whose every input field is optional may be called with no input at all. */
type InputOf<I extends z.ZodObject> = Record<never, never> extends z.input<I> ? z.ZodOptional<I> : I;

function inputOf<I extends z.ZodObject>(op: Operation<I>): InputOf<I> {
  return (acceptsNoInput(op) ? op.input.optional() : op.input) as InputOf<I>;
}

/**
 * The output's type for the typed client, without a run-time check: the executor checks outputs
 * outside production, for both transports alike (`checkResponses`), and production sends them as
 * they are over REST and the direct query path, so tRPC's adapter does too.
 */
function outputOf<O extends z.ZodType>(_op: Operation<z.ZodObject, O>) {
  return (value: unknown) => value as z.output<O>;
}

function queryOf<I extends z.ZodObject, O extends z.ZodType>(op: Operation<I, O>) {
  return authed
    .input(inputOf(op))
    .output(outputOf(op))
    .query(({ ctx, input }) => run(op, ctx, input as z.output<I>) as never);
}

function mutationOf<I extends z.ZodObject, O extends z.ZodType>(op: Operation<I, O>) {
  return authed
    .input(inputOf(op))
    .output(outputOf(op))
    .mutation(({ ctx, input }) => run(op, ctx, input as z.output<I>) as never);
}

/** The procedure an operation is served as: its kind says query or mutation. */
type ProcedureOf<Op> =
  Op extends Operation<infer I, infer O, string, "query">
    ? ReturnType<typeof queryOf<I, O>>
    : Op extends Operation<infer I, infer O, string, "mutation">
      ? ReturnType<typeof mutationOf<I, O>>
      : never;

type AreaOf<Name> = Name extends `${infer Area}.${string}` ? Area : never;

/** `{ area: { procedure } }` from operation names "area.procedure". */
type ProceduresOf<Op extends { readonly name: string }> = {
  [Area in AreaOf<Op["name"]>]: {
    [P in Op as P["name"] extends `${Area}.${infer Name}` ? Name : never]: ProcedureOf<P>;
  };
};

/**
 * The router, derived from the operation table: each operation's name ("area.procedure") and kind
 * are written once, in its definition; REST and the OpenAPI document read the same table.
 */
function proceduresOf(operations: readonly Operation[]): ProceduresOf<TableOperation> {
  const areas: Record<string, Record<string, AnyProcedure>> = {};
  for (const op of operations) {
    const [area, name] = op.name.split(".") as [string, string];
    areas[area] ??= {};
    areas[area][name] = op.kind === "query" ? queryOf(op) : mutationOf(op);
  }
  return areas as unknown as ProceduresOf<TableOperation>;
}

export const appRouter = t.router(proceduresOf(allOperations));

export type AppRouter = typeof appRouter;
