import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("resources over REST on %s (errors)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let id: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    id = await h.deployment(t.admin, "errs");
  });
  afterAll(() => h?.close());

  it("refuses an invalid resource with its fields, registering nothing", async () => {
    for (const body of [
      { kind: "storage", providerRef: "v", qty: "0" },
      { kind: "storage", providerRef: "v", qty: "-1" },
      { kind: "storage", providerRef: "v", qty: 1 },
      { kind: "Storage!", providerRef: "v", qty: "1" },
      { kind: "storage", providerRef: "", qty: "1" },
      { kind: "storage", providerRef: "v".repeat(201), qty: "1" },
      { kind: "storage", providerRef: "v", qty: "1", colour: "red" },
    ]) {
      const r = await h.request("POST", `/api/v1/deployments/${id}/resources`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await h.request("GET", `/api/v1/deployments/${id}/resources`)).body).toEqual([]);
  });

  it("answers NOT_FOUND for unknown resources and CONFLICT for a second release", async () => {
    const missing = await h.request(
      "DELETE",
      `/api/v1/deployments/${id}/resources/0190a1b2-0000-7000-8000-000000000000`,
    );
    expect(missing.status).toBe(404);
    const r = await h.request("POST", `/api/v1/deployments/${id}/resources`, {
      body: { kind: "storage", providerRef: "vol", qty: "1" },
    });
    expect((await h.request("DELETE", `/api/v1/deployments/${id}/resources/${r.body.id}`)).status).toBe(200);
    const again = await h.request("DELETE", `/api/v1/deployments/${id}/resources/${r.body.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");
  });
});
