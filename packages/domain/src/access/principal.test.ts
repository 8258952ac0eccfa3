import { describe, expect, it } from "vitest";
import { canSeeTenant, checkTokenIssue, type Principal, tenantForWrite, tenantToList } from "./principal.ts";

const operator: Principal = { id: "op", role: "platform_admin", tenantId: null };
const admin: Principal = { id: "ta", role: "tenant_admin", tenantId: "t1" };
const viewer: Principal = { id: "tv", role: "tenant_viewer", tenantId: "t1" };
const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? "ok" : r.error!.code);

describe("tenant scope", () => {
  it("lets operators see every tenant and tenant principals only their own", () => {
    expect(canSeeTenant(operator, "t2")).toBe(true);
    expect(canSeeTenant(admin, "t1")).toBe(true);
    expect(canSeeTenant(admin, "t2")).toBe(false);
    expect(canSeeTenant(viewer, "t2")).toBe(false);
  });

  it("keeps the platform's own things (no tenant) to operators", () => {
    expect(canSeeTenant(operator, null)).toBe(true);
    expect(canSeeTenant(admin, null)).toBe(false);
    expect(canSeeTenant(viewer, null)).toBe(false);
    expect(canSeeTenant({ id: "odd", role: "tenant_admin", tenantId: null }, null)).toBe(false);
  });

  it("places writes in the principal's tenant; operators must name one; viewers may not write", () => {
    expect(tenantForWrite(admin, undefined)).toEqual({ ok: true, value: "t1" });
    expect(code(tenantForWrite(admin, "t2"))).toBe("NOT_FOUND");
    expect(code(tenantForWrite(operator, undefined))).toBe("VALIDATION_FAILED");
    expect(tenantForWrite(operator, "t2")).toEqual({ ok: true, value: "t2" });
    expect(code(tenantForWrite(viewer, undefined))).toBe("FORBIDDEN");
  });
});

describe("token issue", () => {
  it("lets operators issue any role, tenant admins only tenant roles of their tenant", () => {
    expect(checkTokenIssue(operator, "platform_admin", undefined)).toEqual({ ok: true, value: null });
    expect(checkTokenIssue(operator, "tenant_viewer", "t9")).toEqual({ ok: true, value: "t9" });
    expect(code(checkTokenIssue(operator, "tenant_viewer", undefined))).toBe("VALIDATION_FAILED");
    expect(checkTokenIssue(admin, "tenant_viewer", undefined)).toEqual({ ok: true, value: "t1" });
    expect(code(checkTokenIssue(admin, "platform_admin", undefined))).toBe("FORBIDDEN");
    expect(code(checkTokenIssue(admin, "tenant_admin", "t2"))).toBe("NOT_FOUND");
    expect(code(checkTokenIssue(viewer, "tenant_viewer", undefined))).toBe("FORBIDDEN");
  });
});

describe("tenantToList", () => {
  const tenant = "0195f1a0-0000-7000-8000-000000000001";
  const other = "0195f1a0-0000-7000-8000-000000000002";
  it("gives a platform admin the tenant it asks for, or every tenant", () => {
    const admin: Principal = { id: "a", role: "platform_admin", tenantId: null };
    expect(tenantToList(admin, other)).toBe(other);
    expect(tenantToList(admin, undefined)).toBeUndefined();
  });
  it("keeps a tenant principal to its own tenant, whatever it asks for", () => {
    for (const role of ["tenant_admin", "tenant_viewer"] as const) {
      const principal: Principal = { id: "t", role, tenantId: tenant };
      expect(tenantToList(principal, other)).toBe(tenant);
      expect(tenantToList(principal, undefined)).toBe(tenant);
    }
  });
  it("gives a tenant role without a tenant no tenant's id", () => {
    expect(tenantToList({ id: "t", role: "tenant_viewer", tenantId: null }, undefined)).toBe("");
  });
});
