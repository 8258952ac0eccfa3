import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Each file boots its own embedded PostgreSQL (1–2 s, up to 10 s under parallel load).
    hookTimeout: 60_000,
    testTimeout: 60_000,
  },
});
