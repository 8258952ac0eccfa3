import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { MAX_BATCH_CALLS, MAX_BATCH_URL_LENGTH } from "./trpc/limits.ts";
import type { AppRouter } from "./trpc/router.ts";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** A typed tRPC client: `createClient({ url: "http://127.0.0.1:3000", token })`. */
export function createClient(options: {
  url: string;
  token: string;
  idempotencyKey?: () => string | undefined;
}) {
  const base = options.url.replace(/\/+$/, "");
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: base.endsWith("/trpc") ? base : `${base}/trpc`,
        // The server's limits: more calls in one tick, or longer inputs, go as several batches.
        maxItems: MAX_BATCH_CALLS,
        maxURLLength: MAX_BATCH_URL_LENGTH,
        headers: () => {
          const key = options.idempotencyKey?.();
          return { authorization: `Bearer ${options.token}`, ...(key ? { "idempotency-key": key } : {}) };
        },
      }),
    ],
  });
}
