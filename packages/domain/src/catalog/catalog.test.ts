import { describe, expect, it } from "vitest";
import { unwrap } from "../shared/errors.ts";
import { createAddon, createPlan, publishPlanVersion, updateAddon } from "./catalog.ts";
import { DEFAULT_CATALOG } from "./default-catalog.ts";

const now = new Date("2026-11-01T00:00:00Z");

describe("catalog", () => {
  it("numbers plan versions one past the highest, with defaults AUD and 14 trial days", () => {
    const plan = unwrap(createPlan({ id: "p", code: "studio", name: "Studio", now }));
    const v3 = unwrap(
      publishPlanVersion(plan, 2, { id: "v", priceCents: 5900, includes: { storage: "10.0" }, now }),
    );
    expect(v3).toMatchObject({ version: 3, currency: "AUD", trialDays: 14, includes: { storage: "10" } });
  });

  it.each([
    [{ priceCents: -1 }, "priceCents"],
    [{ priceCents: 1.5 }, "priceCents"],
    [{ priceCents: 100, currency: "aud" }, "currency"],
    [{ priceCents: 100, trialDays: -1 }, "trialDays"],
    [{ priceCents: 100, includes: { storage: "-1" } }, "includes.storage"],
    [{ priceCents: 100, includes: { storage: "1e3" } }, "includes.storage"],
  ])("rejects a plan version %j naming %s", (input, field) => {
    const plan = unwrap(createPlan({ id: "p", code: "studio", name: "Studio", now }));
    const result = publishPlanVersion(plan, 0, { id: "v", now, ...input });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.error.details.fields as object)).toContain(field);
  });

  it("rejects bad plan and add-on codes", () => {
    expect(createPlan({ id: "p", code: "Bad Code", name: "x", now }).ok).toBe(false);
    expect(
      createAddon({ id: "a", code: "x", name: "x", resourceKind: "storage", qty: "0", priceCents: 1, now })
        .ok,
    ).toBe(false);
  });

  it("changes an add-on's live price and name without touching anything else", () => {
    const addon = unwrap(
      createAddon({
        id: "a",
        code: "storage_50gb",
        name: "S",
        resourceKind: "storage",
        qty: "50",
        priceCents: 750,
        now,
      }),
    );
    const later = new Date("2026-11-02T00:00:00Z");
    unwrap(updateAddon(addon, { priceCents: 900, name: "Storage", active: false }, later));
    expect(addon).toMatchObject({
      priceCents: 900,
      name: "Storage",
      active: false,
      qty: "50",
      updatedAt: later,
    });
    expect(updateAddon(addon, { priceCents: -5 }, later).ok).toBe(false);
    expect(addon.priceCents).toBe(900);
  });

  it("ships the SPEC's default catalog, every entry valid", () => {
    expect(DEFAULT_CATALOG.plans.map((p) => [p.code, p.version.priceCents])).toEqual([
      ["hobby", 0],
      ["studio", 4900],
      ["scale", 19900],
    ]);
    for (const p of DEFAULT_CATALOG.plans) {
      const plan = unwrap(createPlan({ id: p.code, code: p.code, name: p.name, now }));
      expect(unwrap(publishPlanVersion(plan, 0, { ...p.version, id: "v", now })).trialDays).toBe(14);
    }
    expect(DEFAULT_CATALOG.addons.map((a) => [a.code, a.resourceKind, a.qty, a.priceCents])).toEqual([
      ["storage_50gb", "storage", "50", 750],
      ["compute_2vcpu", "compute", "2", 2000],
      ["llm_tokens_1m", "llm_tokens", "1000000", 1500],
    ]);
    for (const a of DEFAULT_CATALOG.addons) expect(createAddon({ ...a, id: a.code, now }).ok).toBe(true);
  });
});
