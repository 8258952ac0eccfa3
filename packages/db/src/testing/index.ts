export * from "./documents.ts";
export * from "./feed.ts";
export * from "./fixtures.ts";
export * from "./pgbouncer.ts";
export * from "./seed.ts";
export * from "./test-database.ts";
