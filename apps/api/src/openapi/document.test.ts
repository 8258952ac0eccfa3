import { ZCreateDeploymentRequest, ZCreateTenantRequest } from "@arcadia/contract";
import {
  CATALOG_CODE_PATTERN,
  CATALOG_NAME_MAX,
  CURRENCY_PATTERN,
  createDeployment,
  createTenant,
  DECIMAL_TEXT_PATTERN,
  DEFAULT_REGIONS,
  DEPLOYMENT_STATES,
  DISPLAY_NAME_MAX,
  INVOICE_STATUSES,
  LINE_KINDS,
  MAX_CENTS,
  REASON_MAX,
  SLUG_PATTERN,
  SUBSCRIPTION_STATUSES,
  TENANT_NAME_MAX,
  TENANT_SLUG_PATTERN,
  TRIAL_DAYS_MAX,
} from "@arcadia/domain";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allOperations } from "../operations/index.ts";
import { openApiDocument } from "./document.ts";

describe("the OpenAPI document", () => {
  const doc = openApiDocument(allOperations) as unknown as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string;
          responses: Record<string, unknown>;
          requestBody?: {
            content: { "application/json": { schema: { properties: Record<string, unknown> } } };
          };
          parameters: { name: string; in: string }[];
        }
      >
    >;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  it("is OpenAPI 3.1 with a bearer scheme", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("documents every operation at its REST path and method, with its success and error responses", () => {
    for (const op of allOperations) {
      const entry = doc.paths[`/api/v1${op.path}`]?.[op.method];
      expect(entry, `${op.method} ${op.path}`).toBeDefined();
      expect(entry!.operationId).toBe(op.name);
      expect(Object.keys(entry!.responses)).toContain(String(op.status));
      expect(Object.keys(entry!.responses)).toContain("401");
      for (const param of [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        expect(entry!.parameters.some((p) => p.name === param && p.in === "path")).toBe(true);
      }
      if (op.method === "post" || op.method === "patch") expect(entry!.requestBody).toBeDefined();
    }
    const documented = Object.values(doc.paths)
      .flatMap((methods) => Object.values(methods).map((m) => m.operationId))
      .filter(Boolean);
    expect(documented.sort()).toEqual(allOperations.map((o) => o.name).sort());
  });

  it("resolves every schema reference", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
  });

  const body = (path: string, method: string) =>
    doc.paths[`/api/v1${path}`]![method]!.requestBody!.content["application/json"].schema.properties;
  const component = (name: string) =>
    (doc.components.schemas[name] as { properties: Record<string, unknown> }).properties;

  it("states the domain's own rules: patterns, lengths, bounds and enums", () => {
    expect(body("/deployments", "post")).toMatchObject({
      slug: { pattern: SLUG_PATTERN.source },
      displayName: { minLength: 1, maxLength: DISPLAY_NAME_MAX },
      region: { examples: [...DEFAULT_REGIONS] },
    });
    expect(body("/deployments/{id}/transition", "post").reason).toEqual({
      anyOf: [{ type: "string", maxLength: REASON_MAX }, { type: "null" }],
    });
    expect(body("/tenants", "post")).toMatchObject({
      slug: { pattern: TENANT_SLUG_PATTERN.source },
      name: { minLength: 1, maxLength: TENANT_NAME_MAX },
    });
    expect(body("/plans", "post")).toMatchObject({
      code: { pattern: CATALOG_CODE_PATTERN.source },
      name: { maxLength: CATALOG_NAME_MAX },
      priceCents: { minimum: 0, maximum: MAX_CENTS },
      currency: { pattern: CURRENCY_PATTERN.source },
      trialDays: { minimum: 0, maximum: TRIAL_DAYS_MAX },
      includes: { additionalProperties: { pattern: DECIMAL_TEXT_PATTERN.source } },
    });
    expect(component("Deployment").state).toMatchObject({ enum: [...DEPLOYMENT_STATES] });
    expect(component("Subscription").status).toMatchObject({ enum: [...SUBSCRIPTION_STATUSES] });
    expect(component("InvoiceLine").kind).toMatchObject({ enum: [...LINE_KINDS] });
    expect(component("Invoice").status).toMatchObject({ enum: [...INVOICE_STATUSES] });
  });

  it("accepts exactly the names and slugs the domain accepts", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ unit: "grapheme", maxLength: 120 }),
      fc.string({ unit: "binary", minLength: 95, maxLength: 105 }),
      fc.stringMatching(/^[a-z0-9-]{1,70}$/),
    );
    const now = new Date(0);
    fc.assert(
      fc.property(text, (value) => {
        const deployment = createDeployment({
          id: "d",
          eventId: "e",
          tenantId: "t",
          slug: value,
          displayName: value,
          region: "au-syd",
          actor: { type: "system", id: "test" },
          now,
          regions: ["au-syd"],
        });
        const fields = deployment.ok ? {} : (deployment.error.details.fields as Record<string, string>);
        const contract = ZCreateDeploymentRequest.safeParse({
          slug: value,
          displayName: value,
          region: "au-syd",
        });
        const refused = contract.success ? [] : contract.error.issues.map((issue) => issue.path.join("."));
        expect(refused.sort()).toEqual(Object.keys(fields).sort());
        const tenant = createTenant({ id: "t", slug: value, name: value, now });
        const tenantFields = tenant.ok ? {} : (tenant.error.details.fields as Record<string, string>);
        const tenantContract = ZCreateTenantRequest.safeParse({ slug: value, name: value });
        expect(
          (tenantContract.success ? [] : tenantContract.error.issues.map((i) => i.path.join("."))).sort(),
        ).toEqual(Object.keys(tenantFields).sort());
      }),
      { numRuns: 500 },
    );
  });
});
