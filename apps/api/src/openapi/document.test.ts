import { describe, expect, it } from "vitest";
import { allOperations } from "../operations/index.ts";
import { openApiDocument } from "./document.ts";

describe("the OpenAPI document", () => {
  const doc = openApiDocument(allOperations) as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string;
          responses: Record<string, unknown>;
          requestBody?: unknown;
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
});
