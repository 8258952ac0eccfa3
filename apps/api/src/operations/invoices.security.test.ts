import { runRolloverPass } from "@arcadia/db";
import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("invoices over REST on %s (security)", (backend) => {
  let h: Harness;
  let a: TenantTokens;
  let b: TenantTokens;
  let deploymentId: string;
  let invoiceId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    a = await h.tenant();
    b = await h.tenant();
    deploymentId = await h.deployment(a.admin, "private");
    const sub = await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
      token: a.admin,
      body: { planCode: "studio" },
    });
    await runRolloverPass(h.db.orm, { now: new Date(sub.body.currentPeriodEnd) });
    invoiceId = (await h.request("GET", "/api/v1/invoices", { token: a.viewer })).body.items[0].id;
  });
  afterAll(() => h?.close());

  it("never shows one tenant's invoices to another: 404, and empty lists whatever filter is asked", async () => {
    for (const token of [b.admin, b.viewer]) {
      expect((await h.request("GET", `/api/v1/invoices/${invoiceId}`, { token })).status).toBe(404);
      expect((await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices`, { token })).status).toBe(
        404,
      );
      expect(
        (await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices/upcoming`, { token })).status,
      ).toBe(404);
      for (const query of ["", `?tenantId=${a.tenantId}`, `?deploymentId=${deploymentId}`]) {
        expect((await h.request("GET", `/api/v1/invoices${query}`, { token })).body.items).toEqual([]);
      }
    }
    expect((await h.request("GET", `/api/v1/invoices/${invoiceId}`, { token: a.viewer })).status).toBe(200);
  });

  it("needs a valid token", async () => {
    expect((await h.request("GET", "/api/v1/invoices", { token: null })).status).toBe(401);
    expect((await h.request("GET", `/api/v1/invoices/${invoiceId}`, { token: "arc_nope" })).status).toBe(401);
  });
});
