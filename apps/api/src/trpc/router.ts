import type { Principal } from "@arcadia/domain";
import { DomainError } from "@arcadia/domain";
import { initTRPC, TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { z } from "zod";
import { ZodError } from "zod";
import { principalFromHeader } from "../auth.ts";
import { errorBody, STATUS_OF, toDomainError, validationError } from "../errors.ts";
import { execute } from "../executor.ts";
import { catalog, deployments, invoices, resources, subscriptions, tenancy } from "../operations/index.ts";
import type { Operation } from "../operations/operation.ts";
import type { Services } from "../services.ts";
import { MAX_BATCH_CALLS } from "./limits.ts";

export interface TrpcContext {
  readonly services: Services;
  readonly authorization: string | undefined;
  readonly idempotencyKey: string | undefined;
  /** The response's headers (the fetch adapter's), for `Idempotent-Replayed`. */
  readonly resHeaders?: Headers;
}

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
  input: z.output<I>,
): Promise<z.output<O>> {
  try {
    const outcome = await execute(
      ctx.services,
      op as unknown as Operation,
      ctx.principal,
      input,
      ctx.idempotencyKey,
      false,
    );
    // As over REST: a replayed answer says so.
    if (outcome.replayed) ctx.resHeaders?.set("Idempotent-Replayed", "true");
    return outcome.body as z.output<O>;
  } catch (error) {
    rethrow(error);
  }
}

function queryOf<I extends z.ZodObject, O extends z.ZodType>(op: Operation<I, O>) {
  return authed
    .input(op.input)
    .output(op.output)
    .query(({ ctx, input }) => run(op, ctx, input as z.output<I>) as never);
}

function mutationOf<I extends z.ZodObject, O extends z.ZodType>(op: Operation<I, O>) {
  return authed
    .input(op.input)
    .output(op.output)
    .mutation(({ ctx, input }) => run(op, ctx, input as z.output<I>) as never);
}

const tenantsRouter = {
  list: queryOf(tenancy.listTenantsOp),
  create: mutationOf(tenancy.createTenantOp),
} satisfies TRPCRouterRecord;

const tokensRouter = {
  create: mutationOf(tenancy.createTokenOp),
  revoke: mutationOf(tenancy.revokeTokenOp),
} satisfies TRPCRouterRecord;

const catalogRouter = {
  listPlans: queryOf(catalog.listPlansOp),
  getPlan: queryOf(catalog.getPlanOp),
  createPlan: mutationOf(catalog.createPlanOp),
  publishPlanVersion: mutationOf(catalog.publishPlanVersionOp),
  listAddons: queryOf(catalog.listAddonsOp),
  createAddon: mutationOf(catalog.createAddonOp),
  updateAddon: mutationOf(catalog.updateAddonOp),
} satisfies TRPCRouterRecord;

const deploymentsRouter = {
  list: queryOf(deployments.listDeploymentsOp),
  get: queryOf(deployments.getDeploymentOp),
  create: mutationOf(deployments.createDeploymentOp),
  update: mutationOf(deployments.updateDeploymentOp),
  transition: mutationOf(deployments.transitionDeploymentOp),
  subscribe: mutationOf(deployments.subscribeOp),
  resources: queryOf(deployments.listResourcesOp),
  entitlements: queryOf(deployments.entitlementsOp),
} satisfies TRPCRouterRecord;

const resourcesRouter = {
  register: mutationOf(resources.registerResourceOp),
  release: mutationOf(resources.releaseResourceOp),
} satisfies TRPCRouterRecord;

const subscriptionsRouter = {
  attachAddon: mutationOf(subscriptions.attachAddonOp),
  detachAddon: mutationOf(subscriptions.detachAddonOp),
  changePlan: mutationOf(subscriptions.changePlanOp),
} satisfies TRPCRouterRecord;

const invoicesRouter = {
  list: queryOf(invoices.listInvoicesOp),
  get: queryOf(invoices.getInvoiceOp),
  listForDeployment: queryOf(invoices.listDeploymentInvoicesOp),
  upcoming: queryOf(invoices.upcomingInvoiceOp),
} satisfies TRPCRouterRecord;

export const appRouter = t.router({
  tenants: tenantsRouter,
  tokens: tokensRouter,
  catalog: catalogRouter,
  deployments: deploymentsRouter,
  resources: resourcesRouter,
  subscriptions: subscriptionsRouter,
  invoices: invoicesRouter,
});

export type AppRouter = typeof appRouter;
