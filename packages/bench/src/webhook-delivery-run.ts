// One contender of the webhook delivery benchmark, in a process of its own:
//   dispatcher <databaseUrl> <warmup> <count> — the worker's path, its long-running loop (fan-out,
//                                       fair claim under a lease, signed POST, attempt logged, delivery moved on)
//   bare <databaseUrl> <warmup> <count> <receiverUrl> <secret> <after position> — the floor: read the
//                                       same outbox rows, sign, POST over keep-alive with the same
//                                       concurrency, nothing recorded
//   loop <databaseUrl>                — the long-running delivery loop, until SIGTERM
// Both contenders deliver `warmup + count` events. The first `warmup` deliveries warm the process
// up (V8 compiles what runs hot, pools and sockets fill); the measured window runs from the
// `warmup`-th answer to the last: a long-running process's pace. Prints {"seconds", "delivered",
// "cpuSeconds"} for that window and {"coldSeconds", "coldDelivered"} from the process's start.
import http from "node:http";
import { connect, eventFromRow, presentFeedEvent } from "@arcadia/db";
import { createLogger } from "@arcadia/runtime";
import {
  createWebhookSender,
  requestTarget,
  type SendResult,
  signWebhook,
  startWebhookDelivery,
  startWebhookDispatcher,
} from "@arcadia/worker";
import pg from "pg";

export const PER_ENDPOINT = 8;

/** This process's CPU time (user and system) since `from`, in seconds. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

const [mode, url, warmupText, countText, receiverUrl, secret, afterPosition] = process.argv.slice(2);
const warmup = Number(warmupText);
const count = Number(countText);

/** The measured window: opened at the `warmup`-th delivery (at once without a warm-up). */
class Window {
  private readonly started = performance.now();
  private opened = { at: this.started, cpu: process.cpuUsage() };
  delivered = 0;

  /** Counts a delivery; true once `warmup + count` are delivered. */
  deliver(): boolean {
    this.delivered += 1;
    if (this.delivered === warmup) this.opened = { at: performance.now(), cpu: process.cpuUsage() };
    return this.delivered >= warmup + count;
  }

  line(): string {
    const now = performance.now();
    return `${JSON.stringify({
      seconds: (now - this.opened.at) / 1000,
      delivered: this.delivered - warmup,
      cpuSeconds: cpuSeconds(this.opened.cpu),
      coldSeconds: (now - this.started) / 1000,
      coldDelivered: this.delivered,
    })}\n`;
  }
}

if (mode === "loop") {
  // The worker's delivery loop as `pnpm worker` runs it, until SIGTERM.
  const orm = await connect({ url: url!, poolSize: 10 });
  const delivery = startWebhookDelivery(orm, createLogger("error"), { allowPrivateNetworks: true });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.on("SIGTERM", () => {
    void delivery.stop().then(() => orm.close().then(() => process.exit(0)));
  });
} else if (mode === "dispatcher") {
  // The long-running loop of `pnpm worker` (fan-out and claims side by side), from its start until
  // `warmup + count` deliveries have been answered 2xx and every attempt is recorded (it stops then).
  const orm = await connect({ url: url!, poolSize: 10 });
  const sender = createWebhookSender({ allowPrivateNetworks: true, maxSockets: PER_ENDPOINT });
  let allAnswered: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    allAnswered = resolve;
  });
  const window = new Window();
  // Counts answers as the bare loop does, inline: one reaction on the attempt's own promise.
  const counted = (result: SendResult) => {
    if (result.responseStatus !== null && result.responseStatus < 300 && window.deliver()) allAnswered();
    return result;
  };
  const counting: typeof sender = {
    ...sender,
    send: (message, timestamp) => sender.send(message, timestamp).then(counted),
  };
  const dispatcher = startWebhookDispatcher(orm, counting, createLogger("error"), {
    perEndpoint: PER_ENDPOINT,
  });
  await answered;
  await dispatcher.stop();
  process.stdout.write(window.line());
  sender.close();
  await orm.close();
} else {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const agent = new http.Agent({ keepAlive: true, maxSockets: PER_ENDPOINT });
  const receiver = new URL(receiverUrl!);
  // The request built as the worker's sender builds it (one options literal, the headers as a
  // list), so that the floor pays no more for the HTTP module than the worker does.
  const { hostname, port, host } = requestTarget(receiver);
  const path = `${receiver.pathname}${receiver.search}`;
  const post = (id: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const timestamp = Math.floor(Date.now() / 1000);
      const request = http.request(
        {
          hostname,
          port,
          path,
          method: "POST",
          agent,
          headers: [
            "host",
            host,
            "content-type",
            "application/json",
            "content-length",
            String(Buffer.byteLength(body)),
            "webhook-id",
            id,
            "webhook-timestamp",
            String(timestamp),
            "webhook-signature",
            signWebhook(id, timestamp, body, [secret!]),
          ],
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  const window = new Window();
  let done = false;
  let after = afterPosition ?? "0";
  while (!done) {
    const { rows } = await client.query(
      // Ordered by the column (the text alias would order "10" before "9")
      "select e.position::text as position, e.id, e.type, e.tenant_id, e.occurred_at, e.data from events e where e.position > $1 order by e.position limit 500",
      [after],
    );
    if (rows.length === 0) break;
    after = rows.at(-1).position;
    const queue = rows.map((r) => ({
      id: r.id as string,
      body: JSON.stringify(presentFeedEvent(eventFromRow(r))),
    }));
    await Promise.all(
      Array.from({ length: PER_ENDPOINT }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          if ((await post(next.id, next.body)) < 300 && window.deliver()) done = true;
        }
      }),
    );
  }
  process.stdout.write(window.line());
  agent.destroy();
  await client.end();
}
