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
 * Where a webhook URL's requests connect, and the `host` header they carry: the name or address
 * (an IPv6 address bracketed in the header, bare to connect), and the port only when it is not
 * the scheme's own. A port of 0 connects to the scheme's port, as the HTTP module treats it, and
 * the header says so too.
 */
export function requestTarget(url: URL): { hostname: string; port: number | undefined; host: string } {
  const port = url.port === "" || Number(url.port) === 0 ? undefined : Number(url.port);
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    host: port === undefined ? url.hostname : `${url.hostname}:${port}`,
  };
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

  /** Where an endpoint's attempts go: what its URL makes of each attempt's request, worked out once. */
  interface Target {
    /** The module for the URL's scheme (its agent's protocol is the request's). */
    readonly transport: typeof http | typeof https;
    readonly hostname: string;
    readonly port: number | undefined;
    readonly path: string;
    readonly agent: http.Agent;
    /** The `host` header (the request's headers are given as a list, which adds none). */
    readonly host: string;
  }

  /**
   * The URL's own checks (scheme, host, a literal address), which depend on nothing but the URL:
   * an endpoint's attempts share one parse, and the request options it makes. The addresses its
   * name resolves to are checked on every connection (`safeLookup`).
   */
  const targets = new Map<string, Target | { refused: string }>();
  function targetOf(raw: string): Target | { refused: string } {
    const known = targets.get(raw);
    if (known) return known;
    const checked = checkWebhookUrl(raw, options);
    let target: Target | { refused: string };
    if (!checked.ok) target = { refused: checked.error.message };
    else {
      const url = new URL(checked.value);
      const { hostname, port, host } = requestTarget(url);
      const secure = url.protocol === "https:";
      target =
        isIP(hostname) && !checkResolvedAddress(hostname, options).ok
          ? { refused: "the address is not public" }
          : {
              transport: secure ? https : http,
              hostname,
              port,
              path: `${url.pathname}${url.search}`,
              agent: secure ? agents.https : agents.http,
              host,
            };
    }
    if (targets.size >= 1000) targets.clear();
    targets.set(raw, target);
    return target;
  }

  /**
   * Attempts past their time, found by one sweep every `sweepMs` rather than a timer each (a
   * timer set and cleared per request is a measurable share of a fast stream's work): an attempt
   * that has no answer is ended at most a sweep's period after its `timeoutMs`, and an answer that
   * comes in that period counts as none (`Attempt.answered`).
   */
  const sweepMs = Math.max(10, Math.min(250, Math.floor(timeoutMs / 8)));
  const running = new Set<Attempt>();
  let sweeper: ReturnType<typeof setInterval> | null = null;
  function sweep(): void {
    const now = performance.now();
    for (const attempt of running) if (now >= attempt.deadline) attempt.expire();
    if (running.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }

  /** One attempt on the wire: its request, its answer, what it came to. */
  class Attempt {
    readonly started = performance.now();
    readonly deadline = this.started + timeoutMs;
    private settled = false;
    private read = 0;
    private status: number | null = null;
    request: http.ClientRequest | null = null;

    constructor(private readonly resolve: (result: SendResult) => void) {
      running.add(this);
      sweeper ??= setInterval(sweep, sweepMs);
      sweeper.unref?.();
    }

    finish(responseStatus: number | null, error: string | null): void {
      if (this.settled) return;
      this.settled = true;
      running.delete(this);
      this.resolve({ responseStatus, error, durationMs: performance.now() - this.started });
    }

    /** Out of time: ended now, whether or not the request had a socket yet. */
    expire(): void {
      const message = `no answer within ${timeoutMs} ms`;
      this.request?.destroy(new Error(message));
      this.finish(this.status, message);
    }

    answered(response: http.IncomingMessage): void {
      // An answer past the deadline that the sweep has not come round to yet is no answer in time.
      if (performance.now() >= this.deadline) {
        this.expire();
        return;
      }
      this.status = response.statusCode ?? null;
      response.on("data", (chunk: Buffer) => {
        this.read += chunk.length;
        if (this.read > maxBytes) {
          // Enough: the status is known and the rest is not ours to store.
          response.destroy();
          this.finish(this.status, null);
        }
      });
      response.on("end", () => this.finish(this.status, null));
      response.on("error", (error) => this.finish(this.status, describe(error)));
      response.on("close", () => this.finish(this.status, null));
    }
  }

  function send(message: WebhookMessage, timestamp: number): Promise<SendResult> {
    const target = targetOf(message.url);
    if ("refused" in target)
      return Promise.resolve({ responseStatus: null, error: target.refused, durationMs: 0 });
    return new Promise<SendResult>((resolve) => {
      const attempt = new Attempt(resolve);
      try {
        const request = target.transport.request(
          {
            hostname: target.hostname,
            port: target.port,
            path: target.path,
            method: "POST",
            agent: target.agent,
            lookup: safeLookup,
            // A list (name, value, …): the module checks each name and value and writes them in
            // this order (adding `connection`), without the header object it would otherwise
            // build and read back for each request; it adds no `host` of its own.
            headers: [
              "host",
              target.host,
              "content-type",
              "application/json",
              "content-length",
              String(Buffer.byteLength(message.body)),
              "user-agent",
              "Arcadia-Webhooks/1",
              "webhook-id",
              message.id,
              "webhook-timestamp",
              String(timestamp),
              "webhook-signature",
              signWebhook(message.id, timestamp, message.body, message.secrets),
            ],
          },
          (response) => attempt.answered(response),
        );
        attempt.request = request;
        request.on("error", (error) => attempt.finish(null, describe(error)));
        request.end(message.body);
      } catch (error) {
        // Refused before any request (a header the HTTP module will not send, say).
        attempt.finish(null, describe(error));
      }
    });
  }

  return {
    send,
    close() {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
