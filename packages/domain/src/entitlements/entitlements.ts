import type { Includes } from "../catalog/catalog.ts";
import { addDecimals, type DecimalString, subtractDecimals } from "../shared/decimal.ts";

export interface Entitlement {
  readonly kind: string;
  readonly included: DecimalString;
  readonly used: DecimalString;
  /** included − used; negative when a deployment uses more than it is entitled to. */
  readonly remaining: DecimalString;
}

export interface EntitlementInput {
  /** The current plan version's includes, or {} without a subscription. */
  readonly includes: Includes;
  readonly attachments: readonly { resourceKind: string; qty: DecimalString; detachedAt: Date | null }[];
  readonly resources: readonly { kind: string; qty: DecimalString; releasedAt: Date | null }[];
}

/** Per resource kind: what the plan and attached add-ons include, what is in use, what remains. */
export function entitlementsOf(input: EntitlementInput): Entitlement[] {
  const included = new Map<string, DecimalString[]>();
  const used = new Map<string, DecimalString[]>();
  const push = (map: Map<string, DecimalString[]>, kind: string, qty: DecimalString) => {
    map.set(kind, [...(map.get(kind) ?? []), qty]);
  };
  for (const [kind, qty] of Object.entries(input.includes)) push(included, kind, qty);
  for (const attachment of input.attachments) {
    if (attachment.detachedAt === null) push(included, attachment.resourceKind, attachment.qty);
  }
  for (const resource of input.resources) {
    if (resource.releasedAt === null) push(used, resource.kind, resource.qty);
  }
  const kinds = [...new Set([...included.keys(), ...used.keys()])].sort();
  return kinds.map((kind) => {
    const inc = addDecimals(...(included.get(kind) ?? []));
    const use = addDecimals(...(used.get(kind) ?? []));
    return { kind, included: inc, used: use, remaining: subtractDecimals(inc, use) };
  });
}
