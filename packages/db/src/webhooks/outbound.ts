import { checkWebhookTarget, fail, type OutboundPolicy, type Result } from "@arcadia/domain";

/** Parses a webhook URL (WHATWG rules: `0x7f.1` is read as 127.0.0.1) and checks it (SPEC §3.9). */
export function checkWebhookUrl(raw: string, policy: OutboundPolicy): Result<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail("VALIDATION_FAILED", "The URL is not valid.", { fields: { url: "must be an absolute URL" } });
  }
  return checkWebhookTarget(
    {
      href: url.toString(),
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      hasCredentials: Boolean(url.username || url.password),
    },
    policy,
  );
}
