import { createHash } from "node:crypto";
import { DomainError } from "@arcadia/domain";
import type { EntityManager } from "@mikro-orm/postgresql";
import { IdempotencyRecord } from "../mapping/index.ts";
import type { Orm } from "../orm.ts";
import { newId } from "./ids.ts";

/** How long a stored response is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A write sent with an Idempotency-Key: who sent it, the key, and what it asks for. */
export interface KeyedRequest {
  readonly principalId: string;
  readonly key: string;
  /** The operation's name and its input: the same key with another request is refused. */
  readonly operation: string;
  readonly input: unknown;
}

/** A success response: what is stored under the key and replayed. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface KeyedResponse extends StoredResponse {
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Runs a keyed write at most once per (principal, key) within the replay window. The first
 * success is stored in the same transaction as the work, under a transaction-level advisory lock
 * on the key: a concurrent duplicate waits, then replays it; a crash stores neither. The same key
 * with a different request is IDEMPOTENCY_KEY_REUSED. Only successes are stored — a rejected
 * request changed nothing, so a retry is judged afresh.
 */
export async function runOnce(
  orm: Orm,
  now: () => Date,
  request: KeyedRequest,
  work: (em: EntityManager) => Promise<StoredResponse>,
): Promise<KeyedResponse> {
  const { principalId, key } = request;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new DomainError("VALIDATION_FAILED", "The Idempotency-Key header is not valid.", {
      fields: { "Idempotency-Key": "1–255 visible ASCII characters" },
    });
  }
  const requestHash = createHash("sha256")
    .update(`${request.operation}\n${canonicalJson(request.input)}`)
    .digest("hex");
  return orm.em.fork().transactional(async (em) => {
    await em.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [`${principalId}\n${key}`]);
    const at = now();
    const previous = await em.findOne(IdempotencyRecord, { principalId, key });
    if (previous && at.getTime() - previous.createdAt.getTime() < IDEMPOTENCY_WINDOW_MS) {
      if (previous.requestHash !== requestHash) {
        throw new DomainError(
          "IDEMPOTENCY_KEY_REUSED",
          "This Idempotency-Key was used with a different request.",
        );
      }
      return { status: previous.statusCode, body: previous.responseBody, replayed: true };
    }
    if (previous) em.remove(previous);
    const response = await work(em);
    em.persist(
      new IdempotencyRecord({
        id: newId(at.getTime()),
        principalId,
        key,
        requestHash,
        statusCode: response.status,
        responseBody: response.body,
        createdAt: at,
      }),
    );
    return { ...response, replayed: false };
  });
}

/**
 * Deletes stored responses older than the replay window, in bounded chunks (so no long lock is
 * held). Returns how many were removed. The worker runs it on every pass.
 */
export async function pruneIdempotencyKeys(orm: Orm, now: Date, chunk = 5000): Promise<number> {
  const before = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  let removed = 0;
  for (;;) {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute(
        "delete from idempotency_keys where id in (select id from idempotency_keys where created_at < ? limit ?) returning id",
        [before, chunk],
      );
    removed += rows.length;
    if (rows.length < chunk) return removed;
  }
}
