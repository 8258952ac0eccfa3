import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Each file boots its own embedded PostgreSQL (1–2 s, up to 10 s under parallel load).
    hookTimeout: 60_000,
    // Process tests spawn several workers, each running a rollover and a collection pass.
    testTimeout: 180_000,
    // The files spawn worker processes and SIGKILL them mid-run: one file at a time, so one file's
    // processes do not starve another's of the 2 cores.
    fileParallelism: false,
  },
});
