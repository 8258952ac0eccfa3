// A closed-loop HTTP/1.1 load generator on plain keep-alive sockets. It does the least work a client
// can (requests written as ready-made bytes, responses only framed: status line, Content-Length or
// chunked), so that on a small machine the load generator takes as little CPU as possible from the
// servers it measures. (fetch/undici cost about as much CPU per request as the bare server itself.)

import { connect, type Socket } from "node:net";

export interface LoadRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests per second in each turn, in round order (`interleaved`). */
  readonly turns?: readonly number[];
}

/**
 * The median over rounds of `a`'s rate in a round divided by `b`'s in the same round: turns of one
 * round run back to back, so a ratio within a round sees one state of a shared machine, and the
 * median ignores the rounds where another job took the cores during one side's turn.
 */
export function medianTurnRatio(a: LoadResult, b: LoadResult): number {
  const ratios = (a.turns ?? [])
    .map((rate, round) => rate / (b.turns?.[round] ?? Number.NaN))
    .filter((ratio) => Number.isFinite(ratio))
    .sort((x, y) => x - y);
  if (ratios.length === 0) return Number.NaN;
  const middle = ratios.length / 2;
  return ratios.length % 2 === 1 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

/** The length of the first complete response in `data`, and its status; null while incomplete. */
export function frameResponse(data: Buffer): { length: number; status: number } | null {
  const headerEnd = data.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = data.toString("latin1", 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headerEnd + 4;
  const contentLength = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (contentLength) {
    const length = bodyStart + Number(contentLength[1]);
    return data.length >= length ? { length, status } : null;
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) return { length: bodyStart, status };
  let at = bodyStart;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(data.toString("latin1", at, lineEnd), 16);
    if (size === 0) {
      const end = data.indexOf(CRLF, lineEnd + 2);
      return end < 0 ? null : { length: end + 2, status };
    }
    at = lineEnd + 2 + size + 2;
    if (data.length < at) return null;
  }
}

/** Bytes read per socket read: a response larger than this arrives in several reads. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * One keep-alive connection: one request in flight at a time. Socket reads land in one buffer the
 * connection keeps (`onread`), so receiving allocates nothing unless a response spans reads: the
 * load generator shares the servers' cores, and its own garbage collections would show up as
 * latency in every lane at once.
 */
class Connection {
  private partial: Buffer | null = null;
  private waiting: { resolve: (status: number) => void; reject: (error: Error) => void } | null = null;
  private socket!: Socket;

  private constructor() {}

  private received(data: Buffer): void {
    const whole = this.partial ? Buffer.concat([this.partial, data]) : data;
    const framed = frameResponse(whole);
    if (!framed) {
      // The read buffer is reused by the next read: keep a copy of what has arrived so far.
      this.partial = whole === data ? Buffer.from(data) : whole;
      return;
    }
    this.partial = null;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve(framed.status);
  }

  static open(port: number): Promise<Connection> {
    const connection = new Connection();
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return new Promise((resolve, reject) => {
      const socket = connect({
        port,
        host: "127.0.0.1",
        onread: {
          buffer,
          callback: (length) => {
            connection.received(buffer.subarray(0, length));
            return true;
          },
        },
      });
      connection.socket = socket;
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        const fail = (error: Error) => {
          connection.waiting?.reject(error);
          connection.waiting = null;
        };
        socket.on("error", fail);
        socket.on("close", () => fail(new Error("connection closed")));
        resolve(connection);
      });
      socket.once("error", reject);
    });
  }

  send(request: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function encode(request: LoadRequest, headers: Record<string, string>): Buffer {
  const body = request.body === undefined ? null : Buffer.from(request.body);
  const lines = [`${request.method} ${request.path} HTTP/1.1`, "host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body) lines.push("content-type: application/json", `content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return body ? Buffer.concat([head, body]) : head;
}

/** Encoded requests by their text, so that a request sent again costs no allocation. */
class RequestCache {
  private readonly encoded = new Map<string, Buffer>();
  constructor(private readonly headers: Record<string, string>) {}

  get(request: LoadRequest): Buffer {
    const key = `${request.method} ${request.path}\n${request.body ?? ""}`;
    let bytes = this.encoded.get(key);
    if (!bytes) {
      if (this.encoded.size >= 10_000) this.encoded.clear();
      bytes = encode(request, this.headers);
      this.encoded.set(key, bytes);
    }
    return bytes;
  }
}

/** Latencies in milliseconds, in a growing typed array (no boxed numbers for the collector). */
class Latencies {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  toArray(): number[] {
    return Array.from(this.values.subarray(0, this.length));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

interface Slice {
  readonly latencies: Latencies;
  readonly errors: number;
}

/** One stretch of closed-loop load; `counters` carries each lane's request count across stretches. */
async function slice(
  port: number,
  connections: number,
  seconds: number,
  headers: Record<string, string>,
  next: (lane: number, i: number) => LoadRequest,
  counters: number[],
): Promise<Slice> {
  const lanes = await Promise.all(Array.from({ length: connections }, () => Connection.open(port)));
  const requests = new RequestCache(headers);
  const latencies = new Latencies();
  // Start the stretch with a collected heap (when the process runs with --expose-gc), so that the
  // load generator's own major collections fall between stretches rather than inside one.
  (globalThis as { gc?: () => void }).gc?.();
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      lanes.map(async (connection, lane) => {
        while (performance.now() < until) {
          const i = counters[lane] ?? 0;
          counters[lane] = i + 1;
          const request = requests.get(next(lane, i));
          const started = performance.now();
          const status = await connection.send(request);
          latencies.push(performance.now() - started);
          if (status >= 300) errors += 1;
        }
      }),
    );
  } finally {
    for (const connection of lanes) connection.close();
  }
  return { latencies, errors };
}

function summary(slices: readonly Slice[], seconds: number): LoadResult {
  const latencies = slices.flatMap((s) => s.latencies.toArray()).sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors: slices.reduce((sum, s) => sum + s.errors, 0),
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Closed loop: `connections` lanes, each on its own connection, each sending its next request as
 * soon as the previous response has fully arrived, for `seconds`.
 */
export async function load(
  port: number,
  connections: number,
  seconds: number,
  headers: Record<string, string>,
  next: (lane: number, i: number) => LoadRequest,
): Promise<LoadResult> {
  return summary([await slice(port, connections, seconds, headers, next, [])], seconds);
}

export interface Contender {
  readonly port: number;
  readonly next: (lane: number, i: number) => LoadRequest;
}

/**
 * Loads the contenders in turns of `turn` seconds, the order rotating every round, until each has
 * had `seconds` (after `warmup` seconds each, not measured). On a shared machine whose speed drifts (other tenants, CPU steal), every contender
 * then meets the same slow and fast patches, so their ratio holds still from run to run.
 */
export async function interleaved<K extends string>(
  contenders: Record<K, Contender>,
  options: {
    seconds: number;
    turn: number;
    connections: number;
    headers: Record<string, string>;
    /** Seconds of load each contender gets first, not measured (JIT compilation, pools, caches). */
    warmup?: number;
  },
): Promise<Record<K, LoadResult>> {
  const names = Object.keys(contenders) as K[];
  const slices = new Map<K, Slice[]>(names.map((name) => [name, []]));
  const counters = new Map<K, number[]>(names.map((name) => [name, []]));
  if (options.warmup) {
    for (const name of names) {
      const { port, next } = contenders[name];
      await slice(port, options.connections, options.warmup, options.headers, next, counters.get(name)!);
    }
  }
  const rounds = Math.max(1, Math.round(options.seconds / options.turn));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      const { port, next } = contenders[name];
      slices
        .get(name)!
        .push(
          await slice(port, options.connections, options.turn, options.headers, next, counters.get(name)!),
        );
    }
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        ...summary(slices.get(name)!, rounds * options.turn),
        turns: slices.get(name)!.map((s) => Math.round(s.latencies.length / options.turn)),
      } satisfies LoadResult as LoadResult,
    ]),
  ) as Record<K, LoadResult>;
}
