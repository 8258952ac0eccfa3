export * from "./catalog.ts";
export * from "./common.ts";
export * from "./deployments.ts";
export * from "./invoices.ts";
export * from "./resources.ts";
export * from "./subscriptions.ts";
export * from "./tenancy.ts";
