// The baseline servers' token check (bare-server.ts, floor-server.ts), as the API does it: the
// bearer token's SHA-256 looked up among unrevoked tokens, the answer cached for five seconds.
import { createHash } from "node:crypto";
import type pg from "pg";

export type Who = { id: string; role: string; tenant_id: string | null };

/** A token checker over `pool`: the principal of an `Authorization` header, or null. */
export function tokenCache(pool: pg.Pool): (authorization: string | undefined) => Promise<Who | null> {
  const principals = new Map<string, { who: Who; until: number }>();
  return async (authorization) => {
    if (!authorization?.startsWith("Bearer ")) return null;
    const hash = createHash("sha256").update(authorization.slice(7)).digest("hex");
    const cached = principals.get(hash);
    if (cached && cached.until > Date.now()) return cached.who;
    const { rows } = await pool.query<Who>(
      "select id, role, tenant_id from api_tokens where secret_hash = $1 and revoked_at is null",
      [hash],
    );
    if (rows[0]) principals.set(hash, { who: rows[0], until: Date.now() + 5000 });
    return rows[0] ?? null;
  };
}
