import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("invoices over REST on %s (errors)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
  });
  afterAll(() => h?.close());

  it("answers NOT_FOUND for unknown or malformed ids and for a deployment without subscription", async () => {
    for (const id of ["0190a1b2-0000-7000-8000-000000000000", "not-a-uuid"]) {
      const r = await h.request("GET", `/api/v1/invoices/${id}`, { token: t.admin });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("NOT_FOUND");
    }
    const unsubscribed = await h.deployment(t.admin, "free");
    const upcoming = await h.request("GET", `/api/v1/deployments/${unsubscribed}/invoices/upcoming`, {
      token: t.admin,
    });
    expect(upcoming.status).toBe(404);
    expect(
      (await h.request("GET", `/api/v1/deployments/${unsubscribed}/invoices`, { token: t.admin })).body,
    ).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it("refuses bad paging input with VALIDATION_FAILED", async () => {
    for (const query of ["limit=0", "limit=201", "limit=x", `cursor=${"x".repeat(501)}`, "colour=red"]) {
      const r = await h.request("GET", `/api/v1/invoices?${query}`, { token: t.admin });
      expect(r.status, query).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
    }
  });
});
