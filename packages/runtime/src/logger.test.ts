import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

describe("createLogger", () => {
  it("writes one JSON object per line, filtered by level, with child fields and expanded errors", () => {
    const lines: string[] = [];
    const logger = createLogger("info", { service: "api" }, (line) => lines.push(line));
    logger.debug("hidden");
    logger.child({ requestId: "r1" }).warn("slow", { ms: 12 });
    logger.error("boom", { err: new Error("bad") });
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ level: "warn", msg: "slow", service: "api", requestId: "r1", ms: 12 });
    expect(entries[1].err).toMatchObject({ name: "Error", message: "bad" });
  });
});
