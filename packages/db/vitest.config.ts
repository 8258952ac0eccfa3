import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Booting an embedded PostgreSQL takes 1–2 s, up to 10 s when files run in parallel.
    hookTimeout: 60_000,
    testTimeout: 60_000,
  },
});
