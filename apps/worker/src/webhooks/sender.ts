import { createHmac } from "node:crypto";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { checkWebhookUrl } from "@arcadia/db";
import {
  checkResolvedAddress,
  type OutboundPolicy,
  WEBHOOK_RESPONSE_LIMIT_BYTES,
  WEBHOOK_TIMEOUT_MS,
} from "@arcadia/domain";

/** What an attempt came to on the wire. */
export interface SendResult {
  /** The response status, or null when none came (refused, unsafe, timed out). */
  readonly responseStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export interface WebhookMessage {
  readonly url: string;
  /** The event id: `webhook-id`, the same on every attempt. */
  readonly id: string;
  readonly body: string;
  readonly secrets: readonly string[];
}

/**
 * Standard Webhooks signatures: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` per
 * active secret, space-separated; the key is the base64 after `whsec_`.
 */
export function signWebhook(id: string, timestamp: number, body: string, secrets: readonly string[]): string {
  const content = `${id}.${timestamp}.${body}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
      return `v1,${createHmac("sha256", key).update(content).digest("base64")}`;
    })
    .join(" ");
}

export interface SenderOptions extends OutboundPolicy {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Sockets kept open per host (keep-alive): bounded by the dispatcher's concurrency anyway. */
  readonly maxSockets?: number;
}

class UnsafeAddress extends Error {
  readonly code = "UNSAFE_URL";
}

/** Names a failure in a few words for the delivery log (never a body, never a secret). */
function describe(error: unknown): string {
  if (error instanceof UnsafeAddress) return error.message;
  const e = error as NodeJS.ErrnoException;
  const text = e?.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ""}`
    : String(e?.message ?? e);
  return text.slice(0, 200);
}

/**
 * POSTs webhooks over keep-alive connections. Outbound safety (SPEC §3.9) is checked on every
 * attempt: the URL's scheme and host, and every address its name resolves to (in the socket's own
 * lookup, so the address checked is the address connected to); redirects are not followed (a 3xx
 * is a failed attempt); the whole attempt has 10 s; at most 64 KiB of the response is read.
 */
export function createWebhookSender(options: SenderOptions) {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? WEBHOOK_RESPONSE_LIMIT_BYTES;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  const safeLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const unsafe = addresses.find((a) => !checkResolvedAddress(a.address, options).ok);
      if (unsafe) return callback(new UnsafeAddress(`${hostname} resolves to a non-public address`), "", 0);
      if ((lookupOptions as { all?: boolean }).all)
        return (callback as never as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  /**
   * The URL's own checks (scheme, host, a literal address), which depend on nothing but the URL:
   * an endpoint's attempts share one parse. The addresses its name resolves to are checked on
   * every connection (`safeLookup`).
   */
  const targets = new Map<string, { url: URL } | { refused: string }>();
  function targetOf(raw: string): { url: URL } | { refused: string } {
    const known = targets.get(raw);
    if (known) return known;
    const checked = checkWebhookUrl(raw, options);
    let target: { url: URL } | { refused: string };
    if (!checked.ok) target = { refused: checked.error.message };
    else {
      const url = new URL(checked.value);
      const host = url.hostname.replace(/^\[|\]$/g, "");
      target =
        isIP(host) && !checkResolvedAddress(host, options).ok
          ? { refused: "the address is not public" }
          : { url };
    }
    if (targets.size >= 1000) targets.clear();
    targets.set(raw, target);
    return target;
  }

  async function send(message: WebhookMessage, timestamp: number): Promise<SendResult> {
    const started = performance.now();
    const done = (responseStatus: number | null, error: string | null): SendResult => ({
      responseStatus,
      error,
      durationMs: performance.now() - started,
    });
    const target = targetOf(message.url);
    if ("refused" in target) return done(null, target.refused);
    const { url } = target;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const request = transport.request(
        url,
        {
          method: "POST",
          agent: url.protocol === "https:" ? agents.https : agents.http,
          lookup: safeLookup,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(message.body),
            "user-agent": "Arcadia-Webhooks/1",
            "webhook-id": message.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(message.id, timestamp, message.body, message.secrets),
          },
        },
        (response) => {
          let read = 0;
          const status = response.statusCode ?? null;
          response.on("data", (chunk: Buffer) => {
            read += chunk.length;
            if (read > maxBytes) {
              // Enough: the status is known and the rest is not ours to store.
              response.destroy();
              finish(done(status, null));
            }
          });
          response.on("end", () => finish(done(status, null)));
          response.on("error", (error) => finish(done(status, describe(error))));
          response.on("close", () => finish(done(status, null)));
        },
      );
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      request.on("error", (error) => finish(done(null, describe(error))));
      request.end(message.body);
    });
  }

  return {
    send,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
