import type { Principal } from "@arcadia/domain";

const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

/**
 * Recently authenticated tokens, kept for a few seconds so that a burst of requests does not look
 * the same token up each time. Revoking through this process forgets the token at once; another
 * process honours a revocation within TTL_MS.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  get(key: string, now: number): Principal | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.until <= now) {
      this.entries.delete(key);
      return null;
    }
    return entry.principal;
  }

  set(key: string, principal: Principal, now: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { principal, until: now + TTL_MS });
  }

  forget(tokenId: string): void {
    for (const [key, entry] of this.entries) if (entry.principal.id === tokenId) this.entries.delete(key);
  }
}
