import { createTRPCClient, httpBatchLink, httpLink, splitLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { MAX_BATCH_CALLS, MAX_BATCH_URL_LENGTH } from "./trpc/limits.ts";
import type { AppRouter } from "./trpc/router.ts";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** What a call may carry in its tRPC context: `mutate(input, { context: { idempotencyKey } })`. */
export interface CallContext {
  /** This mutation's Idempotency-Key: send the same one when retrying it. */
  readonly idempotencyKey?: string;
}

/**
 * A typed tRPC client: `createClient({ url: "http://127.0.0.1:3000", token })`. Queries asked for
 * in the same tick go as batches (within the server's limits); each mutation goes as a request of
 * its own with its own Idempotency-Key: the one in the call's context, else `idempotencyKey()`
 * (asked once per request, so a retry needs the key passed in the context to be recognised).
 */
export function createClient(options: {
  url: string;
  token: string;
  idempotencyKey?: () => string | undefined;
}) {
  const base = options.url.replace(/\/+$/, "");
  const url = base.endsWith("/trpc") ? base : `${base}/trpc`;
  const authorization = `Bearer ${options.token}`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "mutation",
        true: httpLink({
          url,
          headers: ({ op }) => {
            const key = (op.context as CallContext).idempotencyKey ?? options.idempotencyKey?.();
            return { authorization, ...(key ? { "idempotency-key": key } : {}) };
          },
        }),
        false: httpBatchLink({
          url,
          // The server's limits: more calls in one tick, or longer inputs, go as several batches.
          maxItems: MAX_BATCH_CALLS,
          maxURLLength: MAX_BATCH_URL_LENGTH,
          headers: () => ({ authorization }),
        }),
      }),
    ],
  });
}
