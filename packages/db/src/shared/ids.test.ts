import { describe, expect, it } from "vitest";
import { newId } from "./ids.ts";
import { isUuid } from "./lookup.ts";

describe("newId", () => {
  it("makes version-7 uuids that sort in creation order, also within one millisecond", () => {
    const ids = Array.from({ length: 5000 }, () => newId(1_700_000_000_000));
    expect(ids.every(isUuid)).toBe(true);
    expect(ids.every((id) => id[14] === "7" && "89ab".includes(id[19]!))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const later = newId(1_800_000_000_000);
    expect(later > ids.at(-1)!).toBe(true);
    expect(Number.parseInt(later.replace(/-/g, "").slice(0, 12), 16)).toBe(1_800_000_000_000);
    // 62 random bits after the variant: no two tails alike across the run.
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
  });
});
