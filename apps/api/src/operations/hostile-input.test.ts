import { testBackends } from "@arcadia/db/testing";
import { ERROR_CODES } from "@arcadia/domain";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TenantTokens } from "../testing/harness.ts";
import { allOperations } from "./index.ts";

/**
 * Drill 2: generated hostile input on every endpoint, REST and tRPC — wrong types, huge and empty
 * strings, control characters, unknown fields, malformed JSON, bad ids, unknown procedures, batches.
 * Never a 5xx, always an error code from the contract, and the database unchanged.
 */
// Every code of the contract except INTERNAL, which would be a 5xx.
const KNOWN_CODES = new Set<string>(ERROR_CODES.filter((code) => code !== "INTERNAL"));

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\u0007\u001b[31m",
    "'; drop table deployments; --",
    "../../etc/passwd",
    "%00",
    "NaN",
    "-1",
    "1e309",
    "{}",
    "[]",
    "null",
  ),
  fc.constant("x".repeat(5000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

function text(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "");
}

describe.each(testBackends())("hostile input on %s", (backend) => {
  let h: Harness;
  let t: TenantTokens;
  let deploymentId: string;
  const snapshot = async () => {
    const rows = await h.db.orm.em
      .fork()
      .getConnection()
      .execute(
        `select (select count(*) from deployments) d, (select count(*) from deployment_events) e, (select count(*) from subscriptions) s,
                (select count(*) from subscription_addons) a, (select count(*) from plans) p, (select count(*) from plan_versions) v,
                (select count(*) from addons) ad, (select count(*) from tenants) t, (select count(*) from api_tokens) k,
                (select count(*) from cloud_resources) r, (select string_agg(state || display_name, ',' order by id) from deployments) states,
                (select string_agg(price_cents::text || name, ',' order by code) from addons) prices`,
      );
    return rows[0];
  };

  beforeAll(async () => {
    h = await startHarness(backend);
    t = await h.tenant();
    deploymentId = await h.deployment(t.admin, "target", "Target");
  });
  afterAll(() => h?.close());

  it("answers every generated request with a 4xx and a known code, changing nothing", async () => {
    const before = await snapshot();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...allOperations.map((o) => o.name)),
        fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 5 }),
        fc.oneof(fc.constant(deploymentId), nasty.map(text)),
        fc.constantFrom("json", "malformed", "array", "empty"),
        fc.constantFrom<"admin" | "viewer" | "operator">("admin", "viewer", "operator"),
        async (name, fields, idValue, shape, who) => {
          tried += 1;
          const op = allOperations.find((o) => o.name === name)!;
          const path = `/api/v1${op.path.replace(/\{\w+\}/g, () => encodeURIComponent(idValue))}`;
          const token = who === "operator" ? h.adminToken : who === "admin" ? t.admin : t.viewer;
          // Keep generated bodies away from valid writes: every body carries an unknown field.
          const body = { ...fields, "¬unknown": true };
          const options =
            op.method === "get"
              ? { token }
              : shape === "json"
                ? { token, body }
                : shape === "array"
                  ? { token, body: [body] }
                  : shape === "empty"
                    ? { token, rawBody: "" }
                    : {
                        token,
                        rawBody: `{"broken": ${JSON.stringify(fields).slice(0, 20)}`,
                        headers: { "content-type": "application/json" },
                      };
          const query =
            op.method === "get"
              ? `?${new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, text(v)])).toString()}`
              : "";
          const r = await h.request(
            op.method.toUpperCase(),
            path + (op.method === "get" && Object.keys(fields).length > 0 ? query : ""),
            options,
          );
          if (r.status >= 200 && r.status < 300) {
            // Only reads with harmless generated input, and an empty PATCH (a valid no-op), may succeed.
            expect(op.kind === "query" || (op.method === "patch" && shape === "empty")).toBe(true);
            return;
          }
          if (r.status >= 500)
            throw new Error(
              `${op.method} ${path} (${shape}) → ${r.status}: ${h.serverErrors.at(-1)?.slice(0, 1500)}`,
            );
          expect(
            r.status,
            `${op.method} ${path} → ${r.status} ${JSON.stringify(r.body)}`,
          ).toBeGreaterThanOrEqual(400);
          expect(r.status).toBeLessThan(500);
          expect(
            KNOWN_CODES.has(r.body?.error?.code),
            `${op.method} ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`,
          ).toBe(true);
          expect(JSON.stringify(r.body)).not.toMatch(/node_modules|\.ts:\d+|select .* from|insert into/i);
        },
      ),
      { numRuns: Number(process.env.HOSTILE_RUNS ?? 300) },
    );
    expect(tried).toBe(Number(process.env.HOSTILE_RUNS ?? 300));
    expect(await snapshot()).toEqual(before);
    expect(h.serverErrors).toEqual([]);
  });

  it("answers every generated tRPC call (any method, content type, batched or not) without a 5xx, changing nothing", async () => {
    const before = await snapshot();
    const names = [...allOperations.map((o) => o.name), "deployments", "nope.nope", ""];
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }),
        fc.array(fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 5 }), {
          minLength: 3,
          maxLength: 3,
        }),
        fc.oneof(fc.constant(deploymentId), nasty.map(text)),
        fc.constantFrom("GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE"),
        fc.boolean(),
        fc.constantFrom("json", "malformed", "scalar", "absent"),
        fc.constantFrom<"admin" | "viewer" | "operator">("admin", "viewer", "operator"),
        fc.constantFrom(
          "application/json",
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
          "multipart/form-data; boundary=x",
          "application/octet-stream",
          "",
        ),
        async (procedures, fieldSets, idValue, method, batch, shape, who, contentType) => {
          tried += 1;
          const token = who === "operator" ? h.adminToken : who === "admin" ? t.admin : t.viewer;
          // Every generated input carries an unknown field, so that no generated write is valid.
          const inputs = fieldSets.map((fields) => ({ ...fields, id: idValue, "¬unknown": true }));
          const input = batch
            ? Object.fromEntries(procedures.map((_, i) => [String(i), inputs[i]]))
            : inputs[0];
          const encoded =
            shape === "json"
              ? JSON.stringify(input)
              : shape === "malformed"
                ? `{"0": ${JSON.stringify(fieldSets[0]).slice(0, 20)}`
                : shape === "scalar"
                  ? text(idValue)
                  : "";
          const path = `/trpc/${encodeURIComponent(batch ? procedures.join(",") : procedures[0]!)}`;
          const query = new URLSearchParams(batch ? { batch: "1" } : {});
          if (method === "GET" && encoded) query.set("input", encoded);
          const r = await h.request(method, `${path}?${query}`, {
            token,
            ...(method !== "GET" ? { rawBody: encoded } : {}),
            headers: contentType ? { "content-type": contentType } : {},
          });
          const where = `${method} ${path}?${query} (${contentType}) → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
          if (r.status >= 500) throw new Error(`${where}: ${h.serverErrors.at(-1)?.slice(0, 1500)}`);
          const items: { error?: { data?: { code?: string } }; result?: unknown }[] = Array.isArray(r.body)
            ? r.body
            : [r.body];
          for (const item of items) {
            if (item?.result !== undefined) {
              // Only a read may succeed (a write's input always has an unknown field).
              expect(r.status, where).toBeLessThan(300);
              continue;
            }
            const code = item?.error?.data?.code ?? (item as { error?: { code?: string } })?.error?.code;
            expect(KNOWN_CODES.has(code as string), where).toBe(true);
          }
          expect(JSON.stringify(r.body)).not.toMatch(/node_modules|\.ts:\d+|select .* from|insert into/i);
        },
      ),
      { numRuns: Number(process.env.HOSTILE_RUNS ?? 300) },
    );
    expect(tried).toBe(Number(process.env.HOSTILE_RUNS ?? 300));
    expect(await snapshot()).toEqual(before);
    expect(h.serverErrors).toEqual([]);
  });
});
