import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { WORKER_NODE_FLAGS } from "./node-flags.ts";

const scripts = (pkg: string): Record<string, string> =>
  JSON.parse(readFileSync(new URL(pkg, import.meta.url), "utf8")).scripts;

const MiB = 1024 * 1024;

/** The young generation's size (a semi-space, in bytes) in a process started by tsx with `flags`. */
function youngGenerationWith(flags: readonly string[]): number {
  const tsx = createRequire(import.meta.url).resolve("tsx/cli");
  const out = execFileSync(
    process.execPath,
    [
      tsx,
      ...flags,
      "-e",
      'console.log(require("node:v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size)',
    ],
    { encoding: "utf8" },
  );
  return Number(out.trim());
}

describe("the Node flags of the processes that deliver webhooks", () => {
  it.each([
    ["pnpm worker", "../package.json", "worker"],
    ["pnpm start (the API with the in-process worker)", "../../api/package.json", "start"],
  ])("%s runs with every one of them, before its entry point", (_, pkg, name) => {
    const script = scripts(pkg)[name]!;
    const entry = script.indexOf("src/main.ts");
    expect(script.startsWith("tsx ")).toBe(true);
    expect(entry).toBeGreaterThan(0);
    for (const flag of WORKER_NODE_FLAGS) {
      const at = script.indexOf(` ${flag} `);
      expect(at, `${name} passes ${flag}`).toBeGreaterThan(0);
      expect(at).toBeLessThan(entry);
    }
  });

  it("reach V8 through tsx: the young generation starts at 16 MiB a semi-space, not at its default start", () => {
    expect(youngGenerationWith(WORKER_NODE_FLAGS)).toBeGreaterThanOrEqual(16 * MiB);
    expect(youngGenerationWith([])).toBeLessThan(16 * MiB);
  });
});
