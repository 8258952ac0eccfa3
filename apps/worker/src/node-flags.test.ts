import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WORKER_NODE_FLAGS } from "./node-flags.ts";

const scripts = (pkg: string): Record<string, string> =>
  JSON.parse(readFileSync(new URL(pkg, import.meta.url), "utf8")).scripts;

describe("the Node flags of the processes that deliver webhooks", () => {
  it.each([
    ["pnpm worker", "../package.json", "worker"],
    ["pnpm start (the API with the in-process worker)", "../../api/package.json", "start"],
  ])("%s runs with every one of them, before its entry point", (_, pkg, name) => {
    const script = scripts(pkg)[name]!;
    const entry = script.indexOf("src/main.ts");
    expect(entry).toBeGreaterThan(0);
    for (const flag of WORKER_NODE_FLAGS) {
      const at = script.indexOf(` ${flag} `);
      expect(at, `${name} passes ${flag}`).toBeGreaterThan(0);
      expect(at).toBeLessThan(entry);
    }
  });
});
