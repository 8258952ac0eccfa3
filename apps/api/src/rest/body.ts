import type { IncomingMessage } from "node:http";
import { DomainError } from "@arcadia/domain";
import type { Context } from "hono";
import { requestHeader } from "../request-header.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export function payloadTooLarge(): DomainError {
  return new DomainError("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB.");
}

/**
 * A REST request's body as text, refused with PAYLOAD_TOO_LARGE above `limit` bytes (by its
 * Content-Length before reading, or as soon as the bytes read pass it). Read straight from Node's
 * request: going through the web Request (a web stream, an AbortController) cost more per write
 * than the rest of the HTTP layer together. Without a Node request (in-process `app.request`) it
 * reads the web Request.
 */
export async function bodyText(c: Context, limit: number = MAX_BODY_BYTES): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const declared = Number(requestHeader(c, "content-length") ?? 0);
  if (declared > limit) throw payloadTooLarge();
  if (!incoming) {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > limit) throw payloadTooLarge();
    return text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw payloadTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
