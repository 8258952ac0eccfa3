import * as catalog from "./catalog.ts";
import * as deployments from "./deployments.ts";
import * as events from "./events.ts";
import * as invoices from "./invoices.ts";
import type { Operation } from "./operation.ts";
import * as resources from "./resources.ts";
import * as subscriptions from "./subscriptions.ts";
import * as tenancy from "./tenancy.ts";
import * as testClocks from "./test-clocks.ts";
import * as webhooks from "./webhooks.ts";

export { catalog, deployments, events, invoices, resources, subscriptions, tenancy, testClocks, webhooks };

/** Any one operation of the table, with its own name, kind and schemas (the router's type comes from it). */
export type TableOperation =
  | (typeof tenancy)[keyof typeof tenancy]
  | (typeof catalog)[keyof typeof catalog]
  | (typeof invoices)[keyof typeof invoices]
  | (typeof deployments)[keyof typeof deployments]
  | (typeof subscriptions)[keyof typeof subscriptions]
  | (typeof resources)[keyof typeof resources]
  | (typeof testClocks)[keyof typeof testClocks]
  | (typeof events)[keyof typeof events]
  | (typeof webhooks)[keyof typeof webhooks];

/** Every operation, in the order the REST routes are registered (static paths before parameters). */
export const allOperations: readonly Operation[] = [
  ...Object.values(tenancy),
  ...Object.values(testClocks),
  ...Object.values(catalog),
  ...Object.values(invoices),
  ...Object.values(deployments),
  ...Object.values(subscriptions),
  ...Object.values(resources),
  ...Object.values(events),
  ...Object.values(webhooks),
] as unknown as readonly Operation[];
