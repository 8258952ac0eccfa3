export * from "./fixtures.ts";
export * from "./seed.ts";
export * from "./test-database.ts";
