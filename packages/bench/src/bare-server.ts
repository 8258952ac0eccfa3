// The bare baseline: node:http + pg, no framework, no ORM, no validation library. It serves the same
// deployment document from the same data, and does the same transition writes (token check, row
// lock, state change, event insert, subscription status), so the API's overhead can be measured.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
pool.on("error", () => {}); // an idle client dropped by the server is simply replaced
const iso = (d: Date | null) => (d ? d.toISOString() : null);

async function principal(
  req: IncomingMessage,
): Promise<{ id: string; role: string; tenant_id: string | null } | null> {
  const token = req.headers.authorization?.replace(/^Bearer /, "");
  if (!token) return null;
  const hash = createHash("sha256").update(token).digest("hex");
  const { rows } = await pool.query(
    "select id, role, tenant_id from api_tokens where secret_hash = $1 and revoked_at is null",
    [hash],
  );
  return rows[0] ?? null;
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function version(row: Record<string, unknown>, prefix: string) {
  if (!row[`${prefix}id`]) return null;
  return {
    id: row[`${prefix}id`],
    planCode: row[`${prefix}code`],
    version: row[`${prefix}version`],
    priceCents: Number(row[`${prefix}price_cents`]),
    currency: row[`${prefix}currency`],
    trialDays: row[`${prefix}trial_days`],
    includes: row[`${prefix}includes`],
  };
}

async function document(id: string) {
  const { rows: deps } = await pool.query("select * from deployments where id = $1", [id]);
  const d = deps[0];
  if (!d) return null;
  const { rows: subs } = await pool.query(
    `select s.*, v.id as v_id, p.code as v_code, v.version as v_version, v.price_cents as v_price_cents, v.currency as v_currency,
            v.trial_days as v_trial_days, v.includes as v_includes
       from subscriptions s join plan_versions v on v.id = s.plan_version_id join plans p on p.id = v.plan_id
      where s.deployment_id = $1`,
    [id],
  );
  const s = subs[0];
  const [addons, changes, events] = await Promise.all([
    s
      ? pool.query("select * from subscription_addons where subscription_id = $1 order by attached_at, id", [
          s.id,
        ])
      : { rows: [] },
    s
      ? pool.query(
          `select c.*, t.id as t_id, tp.code as t_code, t.version as t_version, t.price_cents as t_price_cents, t.currency as t_currency,
                  t.trial_days as t_trial_days, t.includes as t_includes
             from subscription_plan_changes c join plan_versions t on t.id = c.to_plan_version_id join plans tp on tp.id = t.plan_id
            where c.subscription_id = $1 order by c.requested_at, c.id`,
          [s.id],
        )
      : { rows: [] },
    pool.query("select * from deployment_events where deployment_id = $1 order by sequence", [id]),
  ]);
  return {
    deployment: {
      id: d.id,
      tenantId: d.tenant_id,
      slug: d.slug,
      displayName: d.display_name,
      region: d.region,
      state: d.state,
      llmMode: d.llm_mode,
      billingActionSuspended: d.billing_action_suspended,
      templateCode: d.template_code,
      templateVersion: d.template_version,
      createdAt: iso(d.created_at),
      updatedAt: iso(d.updated_at),
    },
    subscription: s
      ? {
          id: s.id,
          deploymentId: s.deployment_id,
          planVersion: version(s, "v_"),
          status: s.status,
          currentPeriodStart: iso(s.current_period_start),
          currentPeriodEnd: iso(s.current_period_end),
          trialEndsAt: iso(s.trial_ends_at),
          pendingPlanVersion: null,
          addons: addons.rows.map((a) => ({
            id: a.id,
            addonCode: a.addon_code,
            resourceKind: a.resource_kind,
            qty: a.qty,
            priceCents: Number(a.price_cents),
            currency: a.currency,
            attachedAt: iso(a.attached_at),
            detachedAt: iso(a.detached_at),
          })),
          planHistory: changes.rows.map((c) => ({
            id: c.id,
            kind: c.kind,
            fromPlanVersion: null,
            toPlanVersion: version(c, "t_"),
            requestedAt: iso(c.requested_at),
            effectiveAt: iso(c.effective_at),
            actor: { type: c.actor_type, id: c.actor_id },
            supersededAt: iso(c.superseded_at),
          })),
          cancelledAt: iso(s.cancelled_at),
          endedAt: iso(s.ended_at),
          createdAt: iso(s.created_at),
        }
      : null,
    events: events.rows.map((e) => ({
      id: e.id,
      deploymentId: e.deployment_id,
      sequence: e.sequence,
      fromState: e.from_state,
      toState: e.to_state,
      actor:
        e.actor_type === "system"
          ? { type: "system", id: e.actor_id }
          : { type: "principal", id: e.actor_id, role: e.actor_role },
      reason: e.reason,
      occurredAt: iso(e.occurred_at),
    })),
  };
}

async function transition(id: string, to: string, who: { id: string; role: string }) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query(
      "select state, last_event_sequence from deployments where id = $1 for update",
      [id],
    );
    if (!rows[0]) {
      await client.query("rollback");
      return null;
    }
    await client.query("select id from subscriptions where deployment_id = $1 for update", [id]);
    const from = rows[0].state;
    const sequence = rows[0].last_event_sequence + 1;
    const now = new Date();
    await client.query(
      "update deployments set state = $1, last_event_sequence = $2, updated_at = $3 where id = $4",
      [to, sequence, now, id],
    );
    const eventId = randomUUID();
    await client.query(
      "insert into deployment_events (id, deployment_id, sequence, from_state, to_state, actor_type, actor_id, actor_role, reason, occurred_at) values ($1, $2, $3, $4, $5, 'principal', $6, $7, null, $8)",
      [eventId, id, sequence, from, to, who.id, who.role, now],
    );
    await client.query("update subscriptions set status = $1, updated_at = $2 where deployment_id = $3", [
      to === "paused" ? "paused" : "active",
      now,
      id,
    ]);
    await client.query("commit");
    return { eventId, sequence, from, to };
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** Subscribe: the same writes as the API's use case (locks, checks, subscription, plan change, add-ons). */
async function subscribe(
  id: string,
  planCode: string,
  addonCodes: string[],
  who: { id: string; role: string },
) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows: deps } = await client.query(
      "select id, tenant_id, state from deployments where id = $1 for update",
      [id],
    );
    const d = deps[0];
    if (!d) {
      await client.query("rollback");
      return { status: 404, body: { error: { code: "NOT_FOUND" } } };
    }
    const { rows: existing } = await client.query(
      "select count(*)::int as n from subscriptions where deployment_id = $1",
      [id],
    );
    const { rows: versions } = await client.query(
      "select v.* from plan_versions v join plans p on p.id = v.plan_id where p.code = $1 order by v.version desc limit 1",
      [planCode],
    );
    const { rows: addons } = await client.query("select * from addons where code = any($1::text[])", [
      addonCodes,
    ]);
    if (existing[0].n > 0 || !versions[0]) {
      await client.query("rollback");
      return { status: 409, body: { error: { code: "ALREADY_SUBSCRIBED" } } };
    }
    const v = versions[0];
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const subscriptionId = randomUUID();
    await client.query(
      `insert into subscriptions (id, deployment_id, tenant_id, plan_version_id, status, current_period_start, current_period_end, created_at, updated_at)
       values ($1, $2, $3, $4, 'active', $5, $6, $7, $7)`,
      [subscriptionId, id, d.tenant_id, v.id, start, end, now],
    );
    await client.query(
      `insert into subscription_plan_changes (id, subscription_id, from_plan_version_id, to_plan_version_id, kind, requested_at, effective_at, actor_type, actor_id, actor_role)
       values ($1, $2, null, $3, 'initial', $4, $4, 'principal', $5, $6)`,
      [randomUUID(), subscriptionId, v.id, now, who.id, who.role],
    );
    for (const a of addons) {
      await client.query(
        `insert into subscription_addons (id, subscription_id, addon_code, resource_kind, qty, price_cents, currency, attached_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [randomUUID(), subscriptionId, a.code, a.resource_kind, a.qty, a.price_cents, a.currency, now],
      );
    }
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
    const who = await principal(req);
    if (!who) return send(res, 401, { error: { code: "UNAUTHENTICATED" } });
    const get = req.url?.match(/^\/api\/v1\/deployments\/([0-9a-f-]{36})$/);
    if (req.method === "GET" && get) {
      const doc = await document(get[1]!);
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
