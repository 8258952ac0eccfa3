import type { EntityManager } from "@mikro-orm/postgresql";
import { isUuid } from "./lookup.ts";
import type { Sql } from "./sql.ts";

/**
 * Where a tenant's clock is read: the use case's own connection (plain SQL) or its unit of work,
 * so the read joins the use case's transaction and never waits for a second pooled connection.
 */
export type ClockReader = Sql | EntityManager;

/**
 * "Now", resolved per tenant (SPEC §3.10). Every use case and every worker pass asks this, never
 * `new Date()`:
 * - `tenantNow(db, tenantId)` for anything of a tenant's data (events, subscriptions, plan changes,
 *   attachments, resources, invoices, payments, outbox events): the wall clock for an ordinary
 *   tenant, the tenant's test clock for a sandbox. Call it after the use case's row locks: for a
 *   sandbox it also takes a share lock on the tenant row, so an advance of that clock (which holds
 *   the row for update) either finished before or waits until this transaction commits.
 * - `wallNow()` for what belongs to no tenant: the catalog, tokens, idempotency records.
 */
export interface Clock {
  wallNow(): Date;
  tenantNow(db: ClockReader, tenantId: string): Promise<Date>;
}

/**
 * Whether a tenant is a sandbox never changes after it is created, so it is remembered per process
 * (ordinary tenants then cost no query at all). A sandbox's clock itself is read every time.
 */
const sandboxOf = new Map<string, boolean>();
const MAX_REMEMBERED = 100_000;

function remember(tenantId: string, sandbox: boolean): void {
  if (sandboxOf.size >= MAX_REMEMBERED) sandboxOf.clear();
  sandboxOf.set(tenantId, sandbox);
}

async function query(db: ClockReader, text: string, tenantId: string): Promise<Record<string, unknown>[]> {
  if (typeof db === "function") return db(text, [tenantId]);
  return db.execute(text.replace("$1", "?"), [tenantId], "all");
}

const SANDBOX_OF = "select sandbox from tenants where id = $1";
const LOCKED_CLOCK = "select clock_frozen_at from tenants where id = $1 and sandbox for share";

/** The clock of the API and the worker: `wall` for ordinary tenants, the test clock for sandboxes. */
export function tenantClocks(wall: () => Date): Clock {
  return {
    wallNow: wall,
    async tenantNow(db, tenantId) {
      if (!isUuid(tenantId)) return wall();
      let sandbox = sandboxOf.get(tenantId);
      if (sandbox === undefined) {
        const [row] = await query(db, SANDBOX_OF, tenantId);
        if (!row) return wall();
        sandbox = Boolean(row.sandbox);
        remember(tenantId, sandbox);
      }
      if (!sandbox) return wall();
      const [row] = await query(db, LOCKED_CLOCK, tenantId);
      const frozenAt = row?.clock_frozen_at;
      if (frozenAt === null || frozenAt === undefined) return wall();
      return frozenAt instanceof Date ? frozenAt : new Date(String(frozenAt));
    },
  };
}
