// One contender of the webhook delivery benchmark, in a process of its own:
//   dispatcher <databaseUrl> <count>  — the worker's path, its long-running loop (fan-out, fair
//                                       claim under a lease, signed POST, attempt logged, delivery moved on)
//   bare <databaseUrl> <count> <receiverUrl> <secret> [<after position>] — the floor: read the same outbox rows, sign,
//                                       POST over keep-alive with the same concurrency, nothing recorded
//   loop <databaseUrl>                — the long-running delivery loop, until SIGTERM
// Prints {"seconds", "delivered"} when `count` deliveries have been answered.
import http from "node:http";
import { connect, eventFromRow, presentFeedEvent } from "@arcadia/db";
import { createLogger } from "@arcadia/runtime";
import {
  createWebhookSender,
  signWebhook,
  startWebhookDelivery,
  startWebhookDispatcher,
} from "@arcadia/worker";
import pg from "pg";

export const PER_ENDPOINT = 8;

const [mode, url, countText, receiverUrl, secret, afterPosition] = process.argv.slice(2);
const count = Number(countText);

if (mode === "loop") {
  // The worker's delivery loop as `pnpm worker` runs it, until SIGTERM.
  const orm = await connect({ url: url!, poolSize: 10 });
  const delivery = startWebhookDelivery(orm, createLogger("error"), { allowPrivateNetworks: true });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.on("SIGTERM", () => {
    void delivery.stop().then(() => orm.close().then(() => process.exit(0)));
  });
} else if (mode === "dispatcher") {
  // The long-running loop of `pnpm worker` (fan-out and claims side by side), timed from its start
  // until `count` deliveries have been answered 2xx and every attempt is recorded (it stops then).
  const orm = await connect({ url: url!, poolSize: 10 });
  const sender = createWebhookSender({ allowPrivateNetworks: true, maxSockets: PER_ENDPOINT });
  let delivered = 0;
  let allAnswered: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    allAnswered = resolve;
  });
  const counting: typeof sender = {
    ...sender,
    async send(message, timestamp) {
      const result = await sender.send(message, timestamp);
      if (result.responseStatus !== null && result.responseStatus < 300 && ++delivered >= count)
        allAnswered();
      return result;
    },
  };
  const started = performance.now();
  const dispatcher = startWebhookDispatcher(orm, counting, createLogger("error"), {
    perEndpoint: PER_ENDPOINT,
  });
  await answered;
  await dispatcher.stop();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, delivered })}\n`);
  sender.close();
  await orm.close();
} else {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const agent = new http.Agent({ keepAlive: true, maxSockets: PER_ENDPOINT });
  const target = new URL(receiverUrl!);
  const post = (id: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const timestamp = Math.floor(Date.now() / 1000);
      const request = http.request(
        target,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "webhook-id": id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(id, timestamp, body, [secret!]),
          },
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  const started = performance.now();
  let delivered = 0;
  let after = afterPosition ?? "0";
  while (delivered < count) {
    const { rows } = await client.query(
      "select position::text as position, id, type, tenant_id, occurred_at, data from events where position > $1 order by position limit 500",
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
          if ((await post(next.id, next.body)) < 300) delivered += 1;
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, delivered })}\n`);
  agent.destroy();
  await client.end();
}
