import { authenticate, hashSecret, useCaseContext } from "@arcadia/db";
import { DomainError, type Principal } from "@arcadia/domain";
import type { Services } from "./services.ts";

/** The principal behind an `Authorization: Bearer <token>` header, or UNAUTHENTICATED. */
export async function principalFromHeader(
  services: Services,
  header: string | null | undefined,
): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw new DomainError("UNAUTHENTICATED", "Send Authorization: Bearer <token>.");
  const secret = match[1]!;
  const key = hashSecret(secret);
  const now = Date.now();
  const cached = services.principals?.get(key, now);
  if (cached) return cached;
  const principal = await authenticate(
    useCaseContext(services.orm.em.fork(), services.now, services.regions),
    secret,
  );
  if (!principal) throw new DomainError("UNAUTHENTICATED", "The token is unknown or revoked.");
  services.principals?.set(key, principal, now);
  return principal;
}
