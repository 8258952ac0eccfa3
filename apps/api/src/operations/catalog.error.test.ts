import { testBackends } from "@arcadia/db/testing";
import { CATALOG_CODE_RULE, CATALOG_NAME_MAX } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../testing/harness.ts";

describe.each(testBackends())("catalog over REST on %s (errors)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  const plans = async () => (await h.request("GET", "/api/v1/plans")).body.length as number;

  it("refuses an invalid plan with the failing fields and changes nothing", async () => {
    const before = await plans();
    const badCode = await h.request("POST", "/api/v1/plans", {
      body: { code: "Team!", name: "T", priceCents: 1 },
    });
    expect(badCode.status).toBe(400);
    expect(badCode.body.error).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { fields: { code: CATALOG_CODE_RULE } },
    });
    const longName = await h.request("POST", "/api/v1/plans", {
      body: { code: "long", name: "n".repeat(CATALOG_NAME_MAX + 1), priceCents: 1 },
    });
    expect(longName.status).toBe(400);
    expect(Object.keys(longName.body.error.details.fields)).toEqual(["name"]);
    for (const body of [
      { code: "neg", name: "N", priceCents: -1 },
      { code: "frac", name: "F", priceCents: 1.5 },
      { code: "trial", name: "T", priceCents: 1, trialDays: 366 },
      { code: "cur", name: "C", priceCents: 1, currency: "aud" },
      { code: "inc", name: "I", priceCents: 1, includes: { storage: "-1" } },
      { code: "extra", name: "E", priceCents: 1, colour: "red" },
    ]) {
      const r = await h.request("POST", "/api/v1/plans", { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect(await plans()).toBe(before);
  });

  it("answers NOT_FOUND for an unknown plan or add-on, and CONFLICT for a taken code", async () => {
    expect((await h.request("GET", "/api/v1/plans/nope")).status).toBe(404);
    expect((await h.request("POST", "/api/v1/plans/nope/versions", { body: { priceCents: 1 } })).status).toBe(
      404,
    );
    expect((await h.request("PATCH", "/api/v1/addons/nope", { body: { priceCents: 1 } })).status).toBe(404);
    const taken = await h.request("POST", "/api/v1/plans", {
      body: { code: "studio", name: "Again", priceCents: 1 },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("CONFLICT");
  });
});
