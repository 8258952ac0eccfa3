import { authenticate, newId } from "@arcadia/db";
import { DomainError, type Principal } from "@arcadia/domain";
import type { Services } from "./executor.ts";

/** The principal behind an `Authorization: Bearer <token>` header, or UNAUTHENTICATED. */
export async function principalFromHeader(
  services: Services,
  header: string | null | undefined,
): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw new DomainError("UNAUTHENTICATED", "Send Authorization: Bearer <token>.");
  const principal = await authenticate(
    { em: services.orm.em.fork(), now: services.now, newId: () => newId(), regions: services.regions },
    match[1]!,
  );
  if (!principal) throw new DomainError("UNAUTHENTICATED", "The token is unknown or revoked.");
  return principal;
}
