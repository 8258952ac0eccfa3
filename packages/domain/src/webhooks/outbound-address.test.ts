import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkResolvedAddress, checkWebhookTarget, isForbiddenAddress } from "./outbound-address.ts";

const strict = { allowPrivateNetworks: false };
const target = (href: string, protocol: string, hostname: string) => ({
  href,
  protocol,
  hostname,
  hasCredentials: false,
});

describe("outbound addresses", () => {
  it.each([
    "0.0.0.0",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fd00:ec2::254",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a9fe:a9fe",
    "64:ff9b:1:ffff::1",
    "168.63.129.16",
    "2001:db8::1",
    "not-an-address",
  ])("refuses %s", (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
    expect(checkResolvedAddress(address, strict).ok).toBe(false);
    expect(checkResolvedAddress(address, { allowPrivateNetworks: true }).ok).toBe(true);
  });

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "168.63.129.15",
    "168.63.129.17",
    "2a00:1450::1",
  ])("allows the public address %s", (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it("classifies every IPv4 address by its private ranges, and the same address mapped into IPv6 alike", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const [a, b] = ip.split(".").map(Number) as [number, number];
        const privateish =
          a === 0 ||
          a === 10 ||
          a === 127 ||
          a >= 224 ||
          (a === 169 && b === 254) ||
          (a === 172 && b >= 16 && b <= 31) ||
          (a === 192 && b === 168) ||
          (a === 100 && b >= 64 && b <= 127) ||
          (a === 198 && (b === 18 || b === 19));
        if (privateish) expect(isForbiddenAddress(ip)).toBe(true);
        expect(isForbiddenAddress(`::ffff:${ip}`)).toBe(isForbiddenAddress(ip));
      }),
    );
  });

  it("takes only https to public hosts, unless private networks are allowed", () => {
    expect(
      checkWebhookTarget(target("https://hooks.example.com/", "https:", "hooks.example.com"), strict).ok,
    ).toBe(true);
    const refusals = [
      target("http://hooks.example.com/", "http:", "hooks.example.com"),
      target("https://localhost/", "https:", "localhost"),
      target("https://api.localhost/", "https:", "api.localhost"),
      target("https://metadata.google.internal/", "https:", "metadata.google.internal"),
      target("https://localhost./", "https:", "localhost."),
      target("https://LOCALHOST../", "https:", "localhost.."),
      target("https://metadata.google.internal./", "https:", "metadata.google.internal."),
      target("https://x.internal./", "https:", "x.internal."),
      target("https://127.0.0.1/", "https:", "127.0.0.1"),
      target("https://168.63.129.16/", "https:", "168.63.129.16"),
      target("https://[::1]/", "https:", "::1"),
    ];
    for (const t of refusals) {
      const result = checkWebhookTarget(t, strict);
      expect(result.ok ? "ok" : result.error.code).toBe("UNSAFE_URL");
      expect(checkWebhookTarget(t, { allowPrivateNetworks: true }).ok).toBe(true);
    }
    const ftp = checkWebhookTarget(target("ftp://x/", "ftp:", "x"), { allowPrivateNetworks: true });
    expect(ftp.ok ? "ok" : ftp.error.code).toBe("VALIDATION_FAILED");
  });
});
