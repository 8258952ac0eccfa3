import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { frameResponse, interleaved, load } from "./http-load.ts";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("the load generator's response framing", () => {
  it("frames by Content-Length and waits for the whole body", () => {
    const response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    expect(frameResponse(bytes(response))).toEqual({ length: response.length, status: 200 });
    expect(frameResponse(bytes(response.slice(0, -1)))).toBeNull();
    expect(frameResponse(bytes(`${response}HTTP/1.1 404`))).toEqual({ length: response.length, status: 200 });
  });

  it("frames a chunked body up to its last chunk", () => {
    const response =
      "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n";
    expect(frameResponse(bytes(response))).toEqual({ length: response.length, status: 201 });
    for (const cut of [40, 60, response.length - 1])
      expect(frameResponse(bytes(response.slice(0, cut)))).toBeNull();
  });
});

describe("the closed-loop load", () => {
  it("counts every answered request, and the non-2xx ones as errors", async () => {
    let served = 0;
    const server = createServer((req, res) => {
      served += 1;
      const chunked = served % 2 === 0;
      // Every third answer is larger than a socket read, so that it arrives in pieces.
      const body = served % 3 === 0 ? "x".repeat(200_000) : "ok";
      res.writeHead(req.url === "/bad" ? 500 : 200, chunked ? {} : { "content-length": String(body.length) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const result = await load(port, 4, 0.3, {}, (lane, i) => ({
      method: "POST",
      path: lane === 0 && i === 0 ? "/bad" : "/",
      body: "{}",
    }));
    await new Promise((resolve) => server.close(resolve));
    expect(result.requests).toBe(served);
    expect(result.errors).toBe(1);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });
});

describe("interleaved load", () => {
  it("gives each contender a warm-up, then the same time in alternating turns, each lane counting on", async () => {
    const served = [0, 0];
    const servers = await Promise.all(
      [0, 1].map(async (k) => {
        const server = createServer((_req, res) => {
          served[k] = served[k]! + 1;
          res.writeHead(200, { "content-length": "0" });
          res.end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const address = server.address();
        return { server, port: typeof address === "object" && address ? address.port : 0 };
      }),
    );
    const seen = { a: [] as number[], b: [] as number[] };
    const contender = (name: "a" | "b", port: number) => ({
      port,
      next: (lane: number, i: number) => {
        if (lane === 0) seen[name].push(i);
        return { method: "GET", path: "/" };
      },
    });
    const result = await interleaved(
      { a: contender("a", servers[0]!.port), b: contender("b", servers[1]!.port) },
      { seconds: 0.6, turn: 0.2, connections: 2, headers: {}, warmup: 0.2 },
    );
    await Promise.all(servers.map(({ server }) => new Promise((resolve) => server.close(resolve))));
    for (const name of ["a", "b"] as const) {
      expect(seen[name]).toEqual(seen[name].map((_, k) => k)); // 0, 1, 2, … with no restart
      expect(result[name].requests).toBeGreaterThan(0);
      expect(result[name].perSecond).toBe(Math.round(result[name].requests / 0.6));
    }
    // The warm-up's requests were served but not counted.
    expect(served[0]).toBeGreaterThan(result.a.requests);
    expect(served[1]).toBeGreaterThan(result.b.requests);
  });
});
