import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { DomainError } from "@arcadia/domain";
import { serve } from "@hono/node-server";
import { errorBody, STATUS_OF } from "./errors.ts";

/**
 * The answer to a request Node's HTTP parser refused before the app saw it (request line and
 * headers over 16 KiB, a malformed request line, bad header bytes): the same JSON error shape as
 * every other refusal, with a stable code, instead of Node's bare `431`/`400` with no body.
 */
export function clientErrorResponse(parserCode: string | undefined): string {
  const error =
    parserCode === "HPE_HEADER_OVERFLOW"
      ? new DomainError("VALIDATION_FAILED", "The request line and headers are larger than 16 KiB.", {
          fields: { headers: "too large" },
        })
      : new DomainError("VALIDATION_FAILED", "The request is not valid HTTP.");
  const body = JSON.stringify(errorBody(error));
  return [
    `HTTP/1.1 ${STATUS_OF[error.code]} Bad Request`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    // Not a refusal of the input: the client was too slow to send it. Node's own answer.
    socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    return;
  }
  socket.end(clientErrorResponse(error.code));
}

/**
 * How long an idle client connection stays open: longer than a load balancer's idle timeout (60 s
 * for most), so it is always the balancer that closes an idle connection. Were the server first,
 * the balancer could send the next request down a connection the server is closing and get a
 * reset (a 502 to the client).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The server's timeouts, set on purpose rather than left to Node's defaults (keep-alive 5 s):
 * keep-alive as above; the headers timeout above it (a request reusing a connection at the last
 * moment still has its full time for the headers); the whole request at most 5 minutes.
 */
export function serverTimeouts(keepAliveTimeoutMs: number = KEEP_ALIVE_TIMEOUT_MS) {
  const headersTimeout = keepAliveTimeoutMs + 1000;
  return {
    keepAliveTimeout: keepAliveTimeoutMs,
    headersTimeout,
    requestTimeout: Math.max(300_000, headersTimeout),
  };
}

/** Serves the app on `hostname:port` (0 picks a free port) and resolves once it listens. */
export async function listen(
  app: { fetch: Parameters<typeof serve>[0]["fetch"] },
  port: number,
  hostname: string,
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname }, () => resolve(s as Server));
    s.on("clientError", answerClientError);
    Object.assign(s, serverTimeouts(options.keepAliveTimeoutMs));
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : port };
}
