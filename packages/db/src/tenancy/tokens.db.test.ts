import { ApiToken } from "@arcadia/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  createTestDatabase,
  operator,
  TestClock,
  type TestDatabase,
  testBackends,
  testContext,
} from "../testing/index.ts";
import { createTenant, listTenants } from "./tenants.ts";
import { authenticate, ensureBootstrapToken, hashSecret, issueToken, revokeToken } from "./tokens.ts";

describe.each(testBackends())("tenants and tokens on %s", (backend) => {
  let db: TestDatabase;
  const clock = new TestClock(new Date("2026-11-10T00:00:00Z"));
  const ctx = () => testContext(db.orm, clock);
  beforeAll(async () => {
    db = await createTestDatabase(backend);
  });
  afterAll(() => db?.close());

  it("creates tenants (operators only) with unique slugs", async () => {
    const tenant = await createTenant(ctx(), operator, { slug: "acme", name: "Acme" });
    expect(await codeOf(createTenant(ctx(), operator, { slug: "acme", name: "Other" }))).toBe("SLUG_TAKEN");
    expect(
      await codeOf(
        createTenant(ctx(), { id: "x", role: "tenant_admin", tenantId: tenant.id }, { slug: "b", name: "B" }),
      ),
    ).toBe("FORBIDDEN");
    expect((await listTenants(ctx(), operator)).map((t) => t.slug)).toEqual(["acme"]);
  });

  it("stores only a hash of a token's secret, authenticates it, and stops after revocation", async () => {
    const [tenant] = await listTenants(ctx(), operator);
    const { token, secret } = await issueToken(ctx(), operator, {
      role: "tenant_admin",
      tenantId: tenant!.id,
      name: "ci",
    });
    const stored = await db.orm.em.fork().findOneOrFail(ApiToken, { id: token.id });
    expect(stored.secretHash).toBe(hashSecret(secret));
    expect(stored.secretHash).not.toContain(secret);
    const rows = await db.orm.em.getConnection().execute("select * from api_tokens");
    expect(JSON.stringify(rows)).not.toContain(secret);
    const principal = await authenticate(ctx(), secret);
    expect(principal).toEqual({ id: token.id, role: "tenant_admin", tenantId: tenant!.id });

    const viewer = await issueToken(ctx(), principal!, { role: "tenant_viewer", name: "dash" });
    expect(viewer.token.tenantId).toBe(tenant!.id);
    expect(await codeOf(issueToken(ctx(), principal!, { role: "platform_admin", name: "x" }))).toBe(
      "FORBIDDEN",
    );

    await revokeToken(ctx(), principal!, viewer.token.id);
    expect(await authenticate(ctx(), viewer.secret)).toBeNull();
    expect(await authenticate(ctx(), "arc_not-a-real-secret")).toBeNull();
    expect(await codeOf(revokeToken(ctx(), principal!, viewer.token.id))).toBe("CONFLICT");
  });

  it("ensures the bootstrap admin token idempotently, even when raced", async () => {
    await Promise.all([1, 2, 3].map(() => ensureBootstrapToken(ctx(), "bootstrap-secret-123")));
    const principal = await authenticate(ctx(), "bootstrap-secret-123");
    expect(principal?.role).toBe("platform_admin");
    const rows = await db.orm.em
      .getConnection()
      .execute("select count(*)::int as n from api_tokens where secret_hash = ?", [
        hashSecret("bootstrap-secret-123"),
      ]);
    expect(rows[0]?.n).toBe(1);
  });

  it("revokes a token once when revocations race: the others find it revoked", async () => {
    const [tenant] = await listTenants(ctx(), operator);
    const { token } = await issueToken(ctx(), operator, {
      role: "tenant_viewer",
      tenantId: tenant!.id,
      name: "r",
    });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        revokeToken(ctx(), operator, token.id).then(
          () => "revoked",
          (error: unknown) => (error as { code?: string }).code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "revoked")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "CONFLICT")).toHaveLength(5);
  });
});
