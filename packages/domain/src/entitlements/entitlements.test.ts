import { describe, expect, it } from "vitest";
import { entitlementsOf } from "./entitlements.ts";

describe("entitlementsOf", () => {
  it("adds the plan's includes and attached add-ons, subtracts unreleased resources", () => {
    const t = new Date("2026-11-01T00:00:00Z");
    const result = entitlementsOf({
      includes: { storage: "10", compute: "1" },
      attachments: [
        { resourceKind: "storage", qty: "50", detachedAt: null },
        { resourceKind: "storage", qty: "50", detachedAt: t }, // detached: not included
        { resourceKind: "llm_tokens", qty: "1000000", detachedAt: null },
      ],
      resources: [
        { kind: "storage", qty: "12.5", releasedAt: null },
        { kind: "storage", qty: "100", releasedAt: t }, // released: not used
        { kind: "compute", qty: "1.5", releasedAt: null },
        { kind: "gpu", qty: "1", releasedAt: null },
      ],
    });
    expect(result).toEqual([
      { kind: "compute", included: "1", used: "1.5", remaining: "-0.5" },
      { kind: "gpu", included: "0", used: "1", remaining: "-1" },
      { kind: "llm_tokens", included: "1000000", used: "0", remaining: "1000000" },
      { kind: "storage", included: "60", used: "12.5", remaining: "47.5" },
    ]);
  });

  it("is empty with nothing included and nothing used", () => {
    expect(entitlementsOf({ includes: {}, attachments: [], resources: [] })).toEqual([]);
  });
});
