import { randomUUID } from "node:crypto";
import { DomainError } from "@arcadia/domain";
import { trpcServer } from "@hono/trpc-server";
import { TRPCError } from "@trpc/server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { principalFromHeader } from "./auth.ts";
import { errorBody, STATUS_OF, toDomainError } from "./errors.ts";
import { DOCS_PAGE } from "./openapi/docs-page.ts";
import { openApiDocument } from "./openapi/document.ts";
import { allOperations } from "./operations/index.ts";
import { PrincipalCache } from "./principal-cache.ts";
import { requestHeader } from "./request-header.ts";
import { MAX_BODY_BYTES, payloadTooLarge } from "./rest/body.ts";
import { mountRest } from "./rest/routes.ts";
import type { Services } from "./services.ts";
import { directQueries } from "./trpc/direct.ts";
import { domainErrorOf, productErrorShape } from "./trpc/errors.ts";
import { MAX_BATCH_CALLS } from "./trpc/limits.ts";
import { appRouter } from "./trpc/router.ts";

export { MAX_BODY_BYTES } from "./rest/body.ts";

type Env = { Variables: { requestId: string } };

const UNMATCHED = new Set(["", "*", "/*"]);

function respondWithError(error: DomainError) {
  return new Response(JSON.stringify(errorBody(error)), {
    status: STATUS_OF[error.code],
    headers: { "content-type": "application/json" },
  });
}

function keyedBatch(): DomainError {
  return new DomainError(
    "VALIDATION_FAILED",
    "An Idempotency-Key covers one call: send keyed mutations one per request.",
    {
      fields: { "Idempotency-Key": "covers one call, not a batch" },
    },
  );
}

async function databaseReachable(services: Services, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = services.orm.em
    .getConnection()
    .execute("select 1")
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface AppOptions {
  /**
   * Answer plain tRPC queries directly (trpc/direct.ts) rather than through tRPC's fetch adapter.
   * On by default; off gives the adapter every call (the reference its test compares with).
   */
  readonly directQueries?: boolean;
  /**
   * `GET /metrics` on this app, for a platform_admin bearer token (default). False when the
   * metrics are served on a port of their own (`METRICS_PORT`, `metricsServer`).
   */
  readonly metricsRoute?: boolean;
}

/** The HTTP application: health, docs, the tRPC router and the REST routes, one error table. */
export function newApp(input: Services, options: AppOptions = {}): Hono<Env> {
  const services: Services = { ...input, principals: input.principals ?? new PrincipalCache() };
  const app = new Hono<Env>();
  const document = openApiDocument(allOperations);

  app.use("*", async (c, next) => {
    const requestId = requestHeader(c, "x-request-id")?.slice(0, 100) || randomUUID();
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    services.logger.info("request", {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(ms * 10) / 10,
    });
    // The registered pattern that answered (`/api/v1/deployments/:id`), never the raw path; one
    // series for every path no route matched (only the catch-all middleware saw it).
    const route = routePath(c, -1);
    services.metrics?.observeRequest(
      c.req.method,
      UNMATCHED.has(route) ? "(unmatched)" : route,
      c.res.status,
      ms / 1000,
    );
  });

  if (options.directQueries !== false) app.get("/trpc/*", directQueries(services, allOperations));
  // REST reads its bodies itself, straight from Node's request, with the same limit (rest/body.ts);
  // tRPC's adapter reads the web Request, so the limit stands in front of it, answering in tRPC's
  // error shape (a whole-request error: one object, no procedure path) so clients find data.code.
  app.use(
    "/trpc/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        const domain = payloadTooLarge();
        return new Response(JSON.stringify({ error: productErrorShape(domain, undefined) }), {
          status: STATUS_OF[domain.code],
          headers: { "content-type": "application/json" },
        });
      },
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) =>
    (await databaseReachable(services, 2000))
      ? c.json({ status: "ready" })
      : c.json({ status: "unavailable" }, 503),
  );
  const metrics = services.metrics;
  if (metrics && options.metricsRoute !== false) {
    app.get("/metrics", async (c) => {
      const principal = await principalFromHeader(services, c.req.header("authorization"));
      if (principal.role !== "platform_admin") {
        throw new DomainError("FORBIDDEN", "Metrics are for platform admins.");
      }
      return c.body(await metrics.text(), 200, { "content-type": metrics.contentType });
    });
  }
  app.get("/api/v1/openapi.json", (c) => c.json(document));
  app.get("/openapi.json", (c) => c.json(document));
  app.get("/docs", (c) => c.html(DOCS_PAGE));

  app.use(
    "/trpc/*",
    trpcServer({
      endpoint: "/trpc",
      router: appRouter,
      maxBatchSize: MAX_BATCH_CALLS,
      createContext: ({ info, resHeaders }, c) => {
        const idempotencyKey = c.req.header("idempotency-key");
        // A key stands for one write: a keyed batch of several would store one call's answer
        // under it and refuse the others. Refused before any call runs.
        if (idempotencyKey !== undefined && info.type === "mutation" && info.calls.length > 1) {
          throw new TRPCError({ code: "BAD_REQUEST", cause: keyedBatch() });
        }
        return { services, authorization: c.req.header("authorization"), idempotencyKey, resHeaders };
      },
      onError: ({ error, path }) => {
        const domain = domainErrorOf(error);
        if (domain.code === "INTERNAL")
          services.logger.error("unexpected error", { path, err: error.cause ?? error });
      },
    }),
  );

  mountRest(app as unknown as Hono, services, allOperations);

  app.notFound(() => respondWithError(new DomainError("NOT_FOUND", "No such route.")));
  app.onError((error, c) => {
    const domain = toDomainError(error);
    if (domain.code === "INTERNAL") {
      services.logger.error("unexpected error", {
        requestId: c.get("requestId"),
        path: c.req.path,
        err: error,
      });
    }
    return c.json(errorBody(domain), STATUS_OF[domain.code] as ContentfulStatusCode);
  });
  return app;
}
