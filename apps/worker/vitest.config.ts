import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Each file boots its own embedded PostgreSQL (1–2 s, up to 10 s under parallel load).
    hookTimeout: 60_000,
    // Process tests spawn several workers, each running a rollover and a collection pass.
    testTimeout: 180_000,
  },
});
