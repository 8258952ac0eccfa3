import type { Orm } from "@arcadia/db";
import type { Logger } from "@arcadia/runtime";
import { type DispatcherOptions, startWebhookDispatcher, type WebhookDispatcher } from "./dispatcher.ts";
import { createWebhookSender } from "./sender.ts";

export * from "./dispatcher.ts";
export * from "./sender.ts";

/** Webhook delivery for a long-running process (`pnpm worker`, `pnpm start`): sender and loop. */
export function startWebhookDelivery(
  orm: Orm,
  logger: Logger,
  options: DispatcherOptions & { allowPrivateNetworks: boolean },
): WebhookDispatcher {
  const sender = createWebhookSender({ allowPrivateNetworks: options.allowPrivateNetworks });
  const dispatcher = startWebhookDispatcher(orm, sender, logger, options);
  return {
    async stop() {
      await dispatcher.stop();
      sender.close();
    },
  };
}
