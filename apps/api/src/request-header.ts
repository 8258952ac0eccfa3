import type { IncomingMessage } from "node:http";
import type { Context } from "hono";

/**
 * A request header as `Headers#get` gives it (every value of a repeated header, joined by ", "),
 * read straight from Node's raw headers when the app runs on Node. Asking the web Request instead
 * builds a `Headers` object of every header on the first call, which the reads' profile showed as
 * a cost of its own (BENCHMARKS.md, "Reads at the machine's limit"). `name` is lower case. Without
 * a Node request (in-process `app.request`) it asks the web Request.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const raw = incoming.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toLowerCase() === name) {
      value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
    }
  }
  return value;
}
