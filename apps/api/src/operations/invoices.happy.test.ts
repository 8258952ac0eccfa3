import { runRolloverPass } from "@arcadia/db";
import { testBackends } from "@arcadia/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";

describe.each(testBackends())("invoices over REST on %s (happy paths)", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let deploymentId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    deploymentId = await h.deployment(t.admin, "billed");
    await h.request("POST", `/api/v1/deployments/${deploymentId}/subscribe`, {
      token: t.admin,
      body: { planCode: "studio", addons: [{ code: "storage_50gb" }] },
    });
  });
  afterAll(() => h?.close());

  it("shows the upcoming invoice, then the issued one after the period closes", async () => {
    const upcoming = await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices/upcoming`, {
      token: t.viewer,
    });
    expect(upcoming.status).toBe(200);
    expect(upcoming.body).toMatchObject({ status: "upcoming", deploymentId, tenantId: t.tenantId });
    expect(upcoming.body.lines.map((l: { kind: string }) => l.kind)).toEqual(["plan", "addon"]);

    const end = new Date(upcoming.body.periodEnd);
    await runRolloverPass(h.db.orm, { now: end });
    const issued = await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices`, {
      token: t.viewer,
    });
    expect(issued.status).toBe(200);
    expect(issued.body.items).toHaveLength(1);
    const invoice = issued.body.items[0];
    expect(invoice).toMatchObject({
      status: "open",
      periodStart: upcoming.body.periodStart,
      periodEnd: upcoming.body.periodEnd,
      currency: upcoming.body.currency,
    });
    expect(invoice.number).toMatch(/^INV-/);
    expect(invoice.totalCents).toBe(
      invoice.lines.reduce((n: number, l: { amountCents: number }) => n + l.amountCents, 0),
    );

    const one = await h.request("GET", `/api/v1/invoices/${invoice.id}`, { token: t.admin });
    expect(one.body).toEqual(invoice);
    const all = await h.request("GET", "/api/v1/invoices", { token: t.admin });
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([invoice.id]);
    const next = await h.request("GET", `/api/v1/deployments/${deploymentId}/invoices/upcoming`, {
      token: t.admin,
    });
    expect(next.body.periodStart).toBe(invoice.periodEnd);
  });
});
