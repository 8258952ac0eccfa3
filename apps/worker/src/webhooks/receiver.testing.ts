import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Received {
  readonly headers: IncomingHttpHeaders;
  /** The headers as sent: name, value, … (a repeated header shows each time). */
  readonly rawHeaders: readonly string[];
  readonly body: string;
  readonly at: number;
}

/**
 * A real HTTP receiver on a loopback port for delivery tests: `answer` decides each response
 * (status, a promise of one to answer later, or "hang" to never answer); every request is recorded.
 */
export async function startReceiver(
  answer: (index: number, request: Received) => number | Promise<number> | "hang" = () => 204,
) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = { headers: req.headers, rawHeaders: req.rawHeaders, body, at: performance.now() };
      received.push(request);
      const status = answer(received.length - 1, request);
      if (status === "hang") return;
      void Promise.resolve(status).then((code) => {
        res.writeHead(code, { "content-type": "text/plain" }).end("ok");
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
