import { createHash, randomBytes } from "node:crypto";
import {
  ApiToken,
  checkTokenIssue,
  DomainError,
  type Principal,
  type Role,
  revokeToken as revoke,
  Tenant,
  unwrap,
} from "@arcadia/domain";
import { LockMode } from "@mikro-orm/core";
import type { UseCaseContext } from "../shared/context.ts";
import { isUuid, notFound } from "../shared/lookup.ts";

const TOKEN_PREFIX = "arc_";

/** Tokens are 32 random bytes; only their SHA-256 is stored (a fast hash suffices for random secrets). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function newSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export interface IssuedToken {
  readonly token: ApiToken;
  /** The secret, shown once. */
  readonly secret: string;
}

export async function issueToken(
  ctx: UseCaseContext,
  principal: Principal,
  input: { role: Role; tenantId?: string | null; name: string },
): Promise<IssuedToken> {
  const tenantId = unwrap(checkTokenIssue(principal, input.role, input.tenantId));
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new DomainError("VALIDATION_FAILED", "The token is not valid.", {
      fields: { name: "must be 1–100 characters" },
    });
  }
  return ctx.em.transactional(async (em) => {
    if (tenantId !== null && (!isUuid(tenantId) || !(await em.findOne(Tenant, { id: tenantId })))) {
      throw notFound("Tenant");
    }
    const secret = newSecret();
    const token = new ApiToken({
      id: ctx.newId(),
      tenantId,
      role: input.role,
      name,
      secretHash: hashSecret(secret),
      createdAt: ctx.clock.wallNow(),
      revokedAt: null,
    });
    em.persist(token);
    return { token, secret };
  });
}

/** Revokes a token the principal could have issued; others are NOT_FOUND (or FORBIDDEN for viewers). */
export async function revokeToken(ctx: UseCaseContext, principal: Principal, id: string): Promise<ApiToken> {
  return ctx.em.transactional(async (em) => {
    // Locked, so that of two concurrent revocations one revokes and the other finds it revoked.
    const token = isUuid(id)
      ? await em.findOne(ApiToken, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE })
      : null;
    if (!token) throw notFound("Token");
    if (principal.role !== "platform_admin" && token.tenantId !== principal.tenantId) throw notFound("Token");
    unwrap(checkTokenIssue(principal, token.role, token.tenantId));
    unwrap(revoke(token, ctx.clock.wallNow()));
    return token;
  });
}

/** The principal behind a bearer secret, or null when unknown or revoked. */
export async function authenticate(ctx: UseCaseContext, secret: string): Promise<Principal | null> {
  if (secret.length === 0 || secret.length > 200) return null;
  const token = await ctx.em.findOne(ApiToken, { secretHash: hashSecret(secret), revokedAt: null });
  return token ? { id: token.id, role: token.role, tenantId: token.tenantId } : null;
}

/**
 * Makes sure a platform_admin token with this secret exists (BOOTSTRAP_ADMIN_TOKEN). Idempotent,
 * also when several processes start at once.
 */
export async function ensureBootstrapToken(ctx: UseCaseContext, secret: string): Promise<ApiToken> {
  if (secret.length === 0 || secret.length > 200) {
    throw new DomainError("VALIDATION_FAILED", "BOOTSTRAP_ADMIN_TOKEN must be 1–200 characters.");
  }
  const secretHash = hashSecret(secret);
  await ctx.em
    .createQueryBuilder(ApiToken)
    .insert({
      id: ctx.newId(),
      tenantId: null,
      role: "platform_admin",
      name: "bootstrap admin",
      secretHash,
      createdAt: ctx.clock.wallNow(),
      revokedAt: null,
    })
    .onConflict("secret_hash")
    .ignore()
    .execute();
  const token = await ctx.em.findOneOrFail(ApiToken, { secretHash }, { refresh: true });
  if (token.role !== "platform_admin") {
    throw new DomainError(
      "CONFLICT",
      "BOOTSTRAP_ADMIN_TOKEN is already the secret of a token of another role.",
    );
  }
  if (token.revokedAt !== null) {
    await ctx.em.nativeUpdate(ApiToken, { id: token.id }, { revokedAt: null });
  }
  return token;
}
