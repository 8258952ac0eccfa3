import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S'

/** The C string at `offset` and the offset just past its terminator. */
function cstring(body: Buffer, offset: number): [string, number] {
  const end = body.indexOf(0, offset);
  return [body.toString("utf8", offset, end), end + 1];
}

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/**
 * Gives a connection's named prepared queries and portals names of their own in the one shared
 * backend session, so that two clients preparing a query of the same name (as every pooled
 * connection of one program does) do not collide. The unnamed query and portal stay unnamed.
 * `prepared` collects the backend names of the connection's queries, to deallocate them when it
 * goes. (SQL-level PREPARE/EXECUTE in a simple query is passed on as is.)
 */
function withOwnNames(raw: Buffer, prefix: string, prepared: Set<string>): Buffer {
  const type = String.fromCharCode(raw[0]!);
  if (!"PBDCE".includes(type)) return raw;
  const body = raw.subarray(5);
  const own = (name: string) => (name === "" ? "" : `${prefix}${name}`);
  const z = (text: string) => Buffer.from(`${text}\0`, "utf8");
  if (type === "P") {
    const [name, rest] = cstring(body, 0);
    if (name === "") return raw;
    prepared.add(own(name));
    return frame(type, Buffer.concat([z(own(name)), body.subarray(rest)]));
  }
  if (type === "B") {
    const [portal, afterPortal] = cstring(body, 0);
    const [query, rest] = cstring(body, afterPortal);
    if (portal === "" && query === "") return raw;
    return frame(type, Buffer.concat([z(own(portal)), z(own(query)), body.subarray(rest)]));
  }
  if (type === "E") {
    const [portal, rest] = cstring(body, 0);
    if (portal === "") return raw;
    return frame(type, Buffer.concat([z(own(portal)), body.subarray(rest)]));
  }
  // Describe and Close: 'S' or 'P', then the name.
  const [name, rest] = cstring(body, 1);
  if (name === "") return raw;
  if (type === "C" && body[0] === 0x53) prepared.delete(own(name));
  return frame(type, Buffer.concat([body.subarray(0, 1), z(own(name)), body.subarray(rest)]));
}

/**
 * Serves one PGlite (a single PostgreSQL backend) to many client connections on a loopback port.
 *
 * PGlite can run one session's work at a time, so a connection gets the backend exclusively from
 * its first message until the backend is idle again — after a Sync or a simple Query that leaves no
 * transaction open. That keeps a whole transaction, and a whole extended-protocol exchange
 * (Parse/Bind/Execute/Sync), on one connection: interleaving those per message (as a plain
 * multiplexer does) lets one client's Parse replace another's unnamed query. A client that
 * disconnects while holding the backend has its exchange synced and its transaction rolled back.
 */
export class PgliteServer {
  private readonly server: Server;
  private owner: Socket | null = null;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  constructor(private readonly db: PGlite) {
    this.server = createServer((socket) => this.serve(socket));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async acquire(socket: Socket): Promise<void> {
    while (this.owner !== null && this.owner !== socket) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.owner = socket;
  }

  private release(socket: Socket): void {
    if (this.owner !== socket) return;
    this.owner = null;
    this.waiting.shift()?.();
  }

  /** Runs one protocol message; the answer goes to the socket (or nowhere, when recovering). */
  private async run(socket: Socket | null, message: Uint8Array): Promise<void> {
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          if (socket && !socket.destroyed) socket.write(data);
        },
      }),
    );
  }

  /**
   * Frees the backend from a client that vanished mid-exchange (its exchange synced, its
   * transaction rolled back) and drops the queries it prepared.
   */
  private async recover(socket: Socket, prepared: Set<string>): Promise<void> {
    const midExchange = this.owner === socket;
    if (!midExchange && prepared.size === 0) return;
    if (!midExchange) await this.acquire(socket);
    try {
      if (midExchange) {
        await this.run(null, SYNC);
        if (this.db.isInTransaction()) await this.db.exec("rollback");
      }
      for (const name of prepared) {
        // A query whose Parse failed was never created: nothing to drop, go on with the rest.
        await this.db.exec(`deallocate "${name.replaceAll('"', '""')}"`).catch(() => undefined);
      }
    } finally {
      this.release(socket);
    }
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let started = false;
    let chain: Promise<void> = Promise.resolve();
    const prefix = `c${++this.connections}_`;
    const prepared = new Set<string>();

    const next = (): Buffer | null => {
      if (!started) {
        if (buffer.length < 8) return null;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return null;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        return message;
      }
      if (buffer.length < 5) return null;
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) return null;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      return message;
    };

    const handle = async (message: Buffer): Promise<void> => {
      if (!started) {
        const code = message.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          socket.write("N");
          return;
        }
        if (code === CANCEL_REQUEST) {
          socket.end(); // PGlite has no second backend to signal
          return;
        }
        if (code !== PROTOCOL_3) {
          socket.destroy();
          return;
        }
        started = true;
        await this.acquire(socket);
        try {
          await this.run(socket, message);
        } finally {
          this.release(socket);
        }
        return;
      }
      const type = String.fromCharCode(message[0]!);
      if (type === "X") {
        socket.end();
        return;
      }
      await this.acquire(socket);
      await this.run(socket, withOwnNames(message, prefix, prepared));
      if ((type === "S" || type === "Q") && !this.db.isInTransaction()) this.release(socket);
    };

    socket.on("data", (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      const messages: Buffer[] = [];
      for (let m = next(); m; m = next()) messages.push(Buffer.from(m));
      for (const message of messages) {
        chain = chain
          .then(() => (socket.destroyed ? undefined : handle(message)))
          .catch(() => {
            socket.destroy();
          });
      }
    });
    const closed = () => {
      this.sockets.delete(socket);
      chain = chain.then(() => this.recover(socket, prepared)).catch(() => this.release(socket));
    };
    socket.on("close", closed);
    socket.on("error", () => socket.destroy());
  }
}
