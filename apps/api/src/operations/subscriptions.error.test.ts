import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("subscriptions over REST on %s (errors)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let id: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    id = await h.deployment(t.admin, "errs");
    await h.request("POST", `/api/v1/deployments/${id}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio" },
    });
  });
  afterAll(() => h?.close());

  const subscription = async () =>
    (await h.request("GET", `/api/v1/deployments/${id}`, { token: t.admin })).body.subscription;

  it("maps catalog misses, conflicts and bad input to their codes, changing nothing", async () => {
    const before = await subscription();
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "subscription/addons", { code: "nope" }, 422, "UNKNOWN_ADDON"],
      ["POST", "subscription/change-plan", { planCode: "nope", effective: "immediate" }, 422, "UNKNOWN_PLAN"],
      ["POST", "subscription/change-plan", { planCode: "studio", effective: "immediate" }, 409, "CONFLICT"],
      [
        "POST",
        "subscription/change-plan",
        { planCode: "scale", effective: "tomorrow" },
        400,
        "VALIDATION_FAILED",
      ],
      ["POST", "subscription/addons", { code: "storage_50gb", qty: "2" }, 400, "VALIDATION_FAILED"],
      ["DELETE", "subscription/addons/0190a1b2-0000-7000-8000-000000000000", undefined, 404, "NOT_FOUND"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await h.request(method, `/api/v1/deployments/${id}/${path}`, { token: t.admin, body });
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(r.body.error.code).toBe(code);
    }
    expect(await subscription()).toEqual(before);
  });

  it("refuses subscription changes on a deployment without one", async () => {
    const bare = await h.deployment(t.admin, "bare");
    const r = await h.request("POST", `/api/v1/deployments/${bare}/subscription/addons`, {
      token: t.admin,
      body: { code: "storage_50gb" },
    });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("NOT_FOUND");
  });
});
