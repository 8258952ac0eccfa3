import { type CollectionDeps, defaultPaymentProviders, type PaymentProviders } from "@arcadia/db";
import type { Services } from "../services.ts";

const defaults = new WeakMap<Services["orm"], PaymentProviders>();

/** The payment providers of the app (the built-in sandbox unless the services name others). */
export function collectionDeps(services: Services): CollectionDeps {
  let providers = services.providers;
  if (!providers) {
    providers = defaults.get(services.orm) ?? defaultPaymentProviders(services.orm);
    defaults.set(services.orm, providers);
  }
  return { orm: services.orm, providers };
}
