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

/** Serves the app on `hostname:port` (0 picks a free port) and resolves once it listens. */
export async function listen(
  app: { fetch: Parameters<typeof serve>[0]["fetch"] },
  port: number,
  hostname: string,
): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname }, () => resolve(s as Server));
    s.on("clientError", answerClientError);
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : port };
}
