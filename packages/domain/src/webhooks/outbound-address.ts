import { fail, ok, type Result } from "../shared/errors.ts";

/**
 * Where webhooks may go (SPEC §3.9, outbound safety): `https://` only, and never to a private,
 * loopback, link-local, shared, multicast, reserved or cloud-metadata address — checked on the URL
 * at creation and again on every resolved address before each delivery. `allowPrivateNetworks`
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, for development and tests) lifts both rules.
 */
export interface OutboundPolicy {
  readonly allowPrivateNetworks: boolean;
}

/** Host names that always point inside: localhost and the cloud metadata services' names. */
const INTERNAL_NAMES = [
  /^localhost$/,
  /\.localhost$/,
  /^metadata\.google\.internal$/,
  /\.internal$/,
  /^metadata$/,
];

/** A webhook URL as parsed (by the caller: the domain has no URL parser): scheme, host, credentials. */
export interface WebhookTarget {
  readonly href: string;
  /** "https:" or "http:" (anything else is refused). */
  readonly protocol: string;
  /** The host name or address, IPv6 without brackets. */
  readonly hostname: string;
  readonly hasCredentials: boolean;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Checks a parsed webhook URL: http(s), no credentials, not too long (else VALIDATION_FAILED), then
 * https and a host that is not internal nor a non-public address (else UNSAFE_URL). A host name is
 * checked as a name here and by the addresses it resolves to at every delivery.
 */
export function checkWebhookTarget(target: WebhookTarget, policy: OutboundPolicy): Result<string> {
  const invalid = (reason: string) =>
    fail<string>("VALIDATION_FAILED", "The URL is not valid.", { fields: { url: reason } });
  if (target.href.length > MAX_WEBHOOK_URL_LENGTH)
    return invalid(`at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  if (target.protocol !== "https:" && target.protocol !== "http:") return invalid("must be https://");
  if (target.hasCredentials) return invalid("no user or password in the URL");
  if (policy.allowPrivateNetworks) return ok(target.href);
  const unsafe = (reason: string) =>
    fail<string>("UNSAFE_URL", `Webhooks cannot be sent there: ${reason}.`, { url: target.href, reason });
  if (target.protocol !== "https:") return unsafe("only https:// URLs are allowed");
  // A name with a trailing dot (or several) is the same fully qualified name: `localhost.` is
  // localhost.
  const host = target.hostname.toLowerCase().replace(/\.+$/, "");
  if (INTERNAL_NAMES.some((name) => name.test(host))) return unsafe("the host is internal");
  if (isIpLiteral(host) && isForbiddenAddress(host)) return unsafe("the address is not public");
  return ok(target.href);
}

/** Checks an address a delivery's host resolved to (IPv4 dotted or IPv6). */
export function checkResolvedAddress(address: string, policy: OutboundPolicy): Result<string> {
  if (policy.allowPrivateNetworks || !isForbiddenAddress(address)) return ok(address);
  return fail("UNSAFE_URL", "The host resolves to an address that is not public.", { address });
}

function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== null || host.includes(":");
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) ? bytes : null;
}

/** IPv4 ranges that are not on the public internet (RFC 6890 and friends), as [first octets, prefix]. */
const FORBIDDEN_V4: readonly [number[], number][] = [
  [[0], 8], // "this" network
  [[10], 8], // private
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local, including the 169.254.169.254 metadata service
  [[172, 16], 12], // private
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 88, 99], 24], // 6to4 relay
  [[192, 168], 16], // private
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // documentation
  [[203, 0, 113], 24], // documentation
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
  [[168, 63, 129, 16], 32], // Azure's platform endpoint (WireServer), its metadata host besides 169.254.169.254
];

function v4Forbidden(bytes: number[]): boolean {
  const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  return FORBIDDEN_V4.some(([start, prefix]) => {
    const base =
      (((start[0] ?? 0) << 24) | ((start[1] ?? 0) << 16) | ((start[2] ?? 0) << 8) | (start[3] ?? 0)) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return (value & mask) >>> 0 === (base & mask) >>> 0;
  });
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or null. */
function parseIpv6(text: string): number[] | null {
  let address = text.replace(/%.*$/, "");
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    const bytes = parseIpv4(v4[1]!);
    if (!bytes) return null;
    tail = [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!];
    address = address.slice(0, -v4[1]!.length) + (address.endsWith(`::${v4[1]}`) ? "" : "0");
    if (address.endsWith(":0")) address = address.slice(0, -2);
    if (address === "") address = "::";
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const want = 8 - tail.length;
  const fill = halves.length === 2 ? want - head.length - rest.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== want)) return null;
  const all = [...head, ...Array(fill).fill("0"), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return [...all.map((g) => Number.parseInt(g, 16)), ...tail];
}

/** Whether an address (IPv4 or IPv6) is anywhere a webhook must not go. Unparseable counts as forbidden. */
export function isForbiddenAddress(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4) return v4Forbidden(v4);
  const g = parseIpv6(address.toLowerCase());
  if (!g) return true;
  const embeddedV4 = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Forbidden(embeddedV4); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Forbidden(embeddedV4); // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0x0001) return true; // local-use NAT64 64:ff9b:1::/48 (RFC 8215)
  if (g.slice(0, 6).every((x) => x === 0)) return true; // ::, ::1 and IPv4-compatible
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // unique local fc00::/7 (and fd00:ec2::254)
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g[0]! & 0xffc0) === 0xfec0) return true; // site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (g[0] === 0x2002) return v4Forbidden([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]); // 6to4
  return false;
}
