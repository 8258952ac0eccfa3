// The bare baseline: node:http + pg, no framework, no ORM, no validation library. It runs the very
// queries the API runs (`@arcadia/db/queries/*` and `@arcadia/db/json-reads`, prepared the same
// way) for the deployment document, transitions and subscribes, with the same five-second token
// cache, so what the benchmark compares is the stack around the SQL. The document read is the
// API's own JSON query, handled as a framework would: its text parsed into objects, presented
// (a new object per resource) and stringified again — the floor of that read path, beside
// `floor-server.ts`, which sends the text as it comes.
import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import { DEPLOYMENT_DOCUMENT_JSON } from "@arcadia/db/json-reads";
import {
  INSERT_EVENT,
  LOCK_DEPLOYMENT,
  LOCK_SUBSCRIPTION_STATUS,
  UPDATE_STATE,
  UPDATE_SUBSCRIPTION_STATUS,
} from "@arcadia/db/queries/deployments";
import { INSERT_SUBSCRIPTION, SUBSCRIBE_LOOKUP } from "@arcadia/db/queries/subscriptions";
import pg from "pg";
import { tokenCache, type Who } from "./token-cache.ts";

const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
pool.on("error", () => {}); // an idle client dropped by the server is simply replaced
// biome-ignore lint/suspicious/noExplicitAny: rows and their JSON aggregates, read field by field
type Row = Record<string, any>;

const principal = tokenCache(pool);

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

// biome-ignore lint/suspicious/noExplicitAny: the parsed document, presented field by field
type Json = Record<string, any>;
const version = (v: Json | null) => (v ? { ...v } : null);

/** A new object per resource, as a presenter builds one from what it read. */
function present(doc: Json) {
  const s = doc.subscription;
  return {
    deployment: { ...doc.deployment },
    subscription: s
      ? {
          ...s,
          planVersion: version(s.planVersion),
          pendingPlanVersion: version(s.pendingPlanVersion),
          addons: s.addons.map((a: Json) => ({ ...a })),
          planHistory: s.planHistory.map((c: Json) => ({
            ...c,
            fromPlanVersion: version(c.fromPlanVersion),
            toPlanVersion: version(c.toPlanVersion),
            actor: { ...c.actor },
          })),
        }
      : null,
    events: doc.events.map((e: Json) => ({ ...e, actor: { ...e.actor } })),
  };
}

async function document(id: string, who: Who) {
  // The same single query the API runs; its JSON text parsed, presented and (in `send`) stringified.
  const { rows } = await pool.query({ ...DEPLOYMENT_DOCUMENT_JSON, values: [id] });
  const row = rows[0];
  if (!row || (who.tenant_id !== null && row.tenant_id !== who.tenant_id)) return null;
  return present(JSON.parse(row.body));
}

async function transition(id: string, to: string, who: Who) {
  const client = await pool.connect();
  const run = (query: { name: string; text: string }, values: unknown[]) =>
    client.query({ ...query, values });
  try {
    await client.query("begin");
    const { rows } = await run(LOCK_DEPLOYMENT, [id]);
    if (!rows[0]) {
      await client.query("rollback");
      return null;
    }
    const { rows: subscriptions } = await run(LOCK_SUBSCRIPTION_STATUS, [id]);
    const from = rows[0].state;
    const sequence = rows[0].last_event_sequence + 1;
    const now = new Date();
    await run(UPDATE_STATE, [to, sequence, now, id]);
    const eventId = randomUUID();
    await run(INSERT_EVENT, [eventId, id, sequence, from, to, "principal", who.id, who.role, null, now]);
    if (subscriptions[0]) {
      await run(UPDATE_SUBSCRIPTION_STATUS, [
        to === "paused" ? "paused" : "active",
        null,
        now,
        subscriptions[0].id,
      ]);
    }
    await client.query("commit");
    return { eventId, sequence, from, to };
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** Subscribe: the same queries as the API's use case (lock, one lookup, one insert). */
async function subscribe(id: string, planCode: string, addonCodes: string[], who: Who) {
  const client = await pool.connect();
  const run = (query: { name: string; text: string }, values: unknown[]) =>
    client.query({ ...query, values });
  try {
    await client.query("begin");
    const { rows: deps } = await run(LOCK_DEPLOYMENT, [id]);
    const d = deps[0];
    if (!d) {
      await client.query("rollback");
      return { status: 404, body: { error: { code: "NOT_FOUND" } } };
    }
    const { rows: found } = await run(SUBSCRIBE_LOOKUP, [id, planCode, null, addonCodes]);
    const v = found[0];
    if (v.already_subscribed || !v.id) {
      await client.query("rollback");
      return { status: 409, body: { error: { code: "ALREADY_SUBSCRIBED" } } };
    }
    const addons = addonCodes.map((code) => v.addons.find((a: Row) => a.code === code));
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const subscriptionId = randomUUID();
    // biome-ignore format: one line per inserted row
    await run(INSERT_SUBSCRIPTION, [
      subscriptionId, id, d.tenant_id, v.id, "active", start, end, null, null, null, null, now, now,
      randomUUID(), null, v.id, "initial", now, now, "principal", who.id, who.role, null,
      addons.map(() => randomUUID()), addons.map((a) => a.code), addons.map((a) => a.resource_kind),
      addons.map((a) => a.qty), addons.map((a) => a.price_cents), addons.map((a) => a.currency),
      addons.map(() => now), addons.map(() => null),
      1, // the initial plan change's sequence ($32): without it every subscribe failed to bind
    ]);
    await client.query("commit");
    return { status: 201, body: { id: subscriptionId } };
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

const server = createServer(async (req, res) => {
  try {
    const who = await principal(req.headers.authorization);
    if (!who) return send(res, 401, { error: { code: "UNAUTHENTICATED" } });
    const get = req.url?.match(/^\/api\/v1\/deployments\/([0-9a-f-]{36})$/);
    if (req.method === "GET" && get) {
      const doc = await document(get[1]!, who);
      return doc ? send(res, 200, doc) : send(res, 404, { error: { code: "NOT_FOUND" } });
    }
    const post = req.url?.match(/^\/api\/v1\/deployments\/([0-9a-f-]{36})\/transition$/);
    if (req.method === "POST" && post) {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const { to } = JSON.parse(raw) as { to: string };
      const result = await transition(post[1]!, to, who);
      return result ? send(res, 200, result) : send(res, 404, { error: { code: "NOT_FOUND" } });
    }
    const sub = req.url?.match(/^\/api\/v1\/deployments\/([0-9a-f-]{36})\/subscribe$/);
    if (req.method === "POST" && sub) {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const { planCode, addons } = JSON.parse(raw) as { planCode: string; addons?: { code: string }[] };
      const result = await subscribe(
        sub[1]!,
        planCode,
        (addons ?? []).map((a) => a.code),
        who,
      );
      return send(res, result.status, result.body);
    }
    send(res, 404, { error: { code: "NOT_FOUND" } });
  } catch {
    send(res, 500, { error: { code: "INTERNAL" } });
  }
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
  );
});
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
