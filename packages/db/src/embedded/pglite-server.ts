import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S'

/**
 * Serves one PGlite (a single PostgreSQL backend) to many client connections on a loopback port.
 *
 * PGlite can run one session's work at a time, so a connection gets the backend exclusively from
 * its first message until the backend is idle again — after a Sync or a simple Query that leaves no
 * transaction open. That keeps a whole transaction, and a whole extended-protocol exchange
 * (Parse/Bind/Execute/Sync), on one connection: interleaving those per message (as a plain
 * multiplexer does) lets one client's Parse replace another's unnamed statement. A client that
 * disconnects while holding the backend has its exchange synced and its transaction rolled back.
 */
export class PgliteServer {
  private readonly server: Server;
  private owner: Socket | null = null;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

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

  /** Frees the backend from a client that vanished mid-exchange. */
  private async recover(socket: Socket): Promise<void> {
    if (this.owner !== socket) return;
    try {
      await this.run(null, SYNC);
      if (this.db.isInTransaction()) await this.db.exec("rollback");
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
      await this.run(socket, message);
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
      chain = chain.then(() => this.recover(socket)).catch(() => this.release(socket));
    };
    socket.on("close", closed);
    socket.on("error", () => socket.destroy());
  }
}
