import type { Orm, PaymentProviders } from "@arcadia/db";
import type { Logger, Metrics } from "@arcadia/runtime";
import type { PrincipalCache } from "./principal-cache.ts";

/** What every request handler is given: the database, the clock, the configured regions, the logger. */
export interface Services {
  readonly orm: Orm;
  /** Short-lived cache of authenticated tokens (see principal-cache.ts); none means every request looks up. */
  readonly principals?: PrincipalCache;
  readonly now: () => Date;
  readonly regions: readonly string[];
  readonly logger: Logger;
  /** Prometheus metrics of this process (`GET /metrics`); none records nothing. */
  readonly metrics?: Metrics;
  /** Payment providers by name; the built-in sandbox when absent. */
  readonly providers?: PaymentProviders;
  /**
   * Check every response against its operation's output schema before sending it (default: on).
   * Off in production (`CHECK_RESPONSES`, default off only with NODE_ENV=production): the presenters
   * and the JSON queries are held to the schemas by tests (`output-schemas.test.ts`), and
   * checking a document on every read cost more than presenting it.
   */
  readonly checkResponses?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: webhook endpoints may be http:// and on private addresses (development, tests). */
  readonly webhookAllowPrivateNetworks?: boolean;
}
