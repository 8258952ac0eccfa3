// The API's hottest reads as JSON text built by PostgreSQL in the contract's shape: the deployment
// document and the two main lists. The text is passed to the client as it comes, with no parse,
// mapping, presenting or stringify in between. Importing only `Prepared` (like the `<area>/queries.ts`
// modules), so the bench's floor server runs the very same queries (`@arcadia/db/json-reads`).
//
// The shape is the one the presenters (presenters.ts, beside this file) write from entities:
// `json-reads.db.test.ts` generates fixtures and requires the two to be byte-identical. So every
// key below is in the presenter's order, instants are written as `Date#toISOString` writes them
// (milliseconds, `Z`), decimals as `normalizeDecimal` writes them, and objects and arrays are
// compact (`row_to_json`/`array_to_json`, never `json_build_object`/`json_agg`, which add spaces).

import { type Prepared, prepared } from "../shared/prepared.ts";

// Those who run these queries outside the package (the bench's floor) name their type from here.
export type { Prepared } from "../shared/prepared.ts";

/** An instant as `Date#toISOString` writes it. */
const iso = (expression: string) =>
  `to_char(${expression} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A numeric as `normalizeDecimal` writes it: no trailing fractional zeros, as a JSON string. */
const decimal = (expression: string) => `trim_scale(${expression})::text`;

/** `[key, SQL expression]`: the fields of a JSON object, in the order the presenter writes them. */
type Fields = readonly (readonly [string, string])[];

const select = (fields: Fields) => fields.map(([key, sql]) => `${sql} as "${key}"`).join(", ");

/** One object from the current row's expressions. */
const object = (fields: Fields) => `(select row_to_json(j) from (select ${select(fields)}) j)`;

/**
 * An array of objects, one per row of `table` (with its alias) matching `where`, in `orderBy`
 * order. The fields are computed in a lateral subquery, so ordering columns stay out of the output.
 */
const array = (fields: Fields, table: string, where: string, orderBy: string) =>
  `array_to_json(array(select row_to_json(j) from ${table}, lateral (select ${select(fields)}) j where ${where} order by ${orderBy}))`;

/** `includes` (jsonb, scalar values) as compact JSON in jsonb's key order (what the presenter sees). */
const compactJsonb = (expression: string) =>
  `(select coalesce('{' || string_agg(to_json(i.key)::text || ':' || i.value::text, ',') || '}', '{}')::json
      from jsonb_each(${expression}) i)`;

/** A plan version as a subscription holds it (`snapshotOf`), or null when `id` is null. */
const planSnapshot = (id: string) =>
  `(select row_to_json(j) from plan_versions sv join plans sp on sp.id = sv.plan_id, lateral (select ${select(
    [
      ["id", "sv.id"],
      ["planCode", "sp.code"],
      ["version", "sv.version"],
      ["priceCents", "sv.price_cents"],
      ["currency", "sv.currency"],
      ["trialDays", "sv.trial_days"],
      ["includes", compactJsonb("sv.includes")],
    ],
  )}) j where sv.id = ${id})`;

/** `presentDeployment` over the deployments row `d`. */
const DEPLOYMENT: Fields = [
  ["id", "d.id"],
  ["tenantId", "d.tenant_id"],
  ["slug", "d.slug"],
  ["displayName", "d.display_name"],
  ["region", "d.region"],
  ["state", "d.state"],
  ["llmMode", "d.llm_mode"],
  ["billingActionSuspended", "d.billing_action_suspended"],
  ["templateCode", "d.template_code"],
  ["templateVersion", "d.template_version"],
  ["createdAt", iso("d.created_at")],
  ["updatedAt", iso("d.updated_at")],
];

/** `eventActor`: a system actor has no role; a principal always has one. */
const EVENT_ACTOR = `case when e.actor_type = 'system'
    then ${object([
      ["type", "e.actor_type"],
      ["id", "e.actor_id"],
    ])}
    else ${object([
      ["type", "e.actor_type"],
      ["id", "e.actor_id"],
      ["role", "e.actor_role"],
    ])} end`;

/** `presentEvent` over the deployment_events row `e`. */
const EVENT: Fields = [
  ["id", "e.id"],
  ["deploymentId", "e.deployment_id"],
  ["sequence", "e.sequence"],
  ["fromState", "e.from_state"],
  ["toState", "e.to_state"],
  ["actor", EVENT_ACTOR],
  ["reason", "e.reason"],
  ["occurredAt", iso("e.occurred_at")],
];

/** `presentAttachment` over the subscription_addons row `a`. */
const ATTACHMENT: Fields = [
  ["id", "a.id"],
  ["addonCode", "a.addon_code"],
  ["resourceKind", "a.resource_kind"],
  ["qty", decimal("a.qty")],
  ["priceCents", "a.price_cents"],
  ["currency", "a.currency"],
  ["attachedAt", iso("a.attached_at")],
  ["detachedAt", iso("a.detached_at")],
];

/** `presentPlanChange` over the subscription_plan_changes row `c` (the role only when there is one). */
const PLAN_CHANGE: Fields = [
  ["id", "c.id"],
  ["sequence", "c.sequence"],
  ["kind", "c.kind"],
  ["fromPlanVersion", planSnapshot("c.from_plan_version_id")],
  ["toPlanVersion", planSnapshot("c.to_plan_version_id")],
  ["requestedAt", iso("c.requested_at")],
  ["effectiveAt", iso("c.effective_at")],
  [
    "actor",
    `case when c.actor_role is null
      then ${object([
        ["type", "c.actor_type"],
        ["id", "c.actor_id"],
      ])}
      else ${object([
        ["type", "c.actor_type"],
        ["id", "c.actor_id"],
        ["role", "c.actor_role"],
      ])} end`,
  ],
  ["supersededAt", iso("c.superseded_at")],
];

/** `presentSubscription` over the subscriptions row `s`. */
const SUBSCRIPTION: Fields = [
  ["id", "s.id"],
  ["deploymentId", "s.deployment_id"],
  ["planVersion", planSnapshot("s.plan_version_id")],
  ["status", "s.status"],
  ["currentPeriodStart", iso("s.current_period_start")],
  ["currentPeriodEnd", iso("s.current_period_end")],
  ["trialEndsAt", iso("s.trial_ends_at")],
  ["pendingPlanVersion", planSnapshot("s.pending_plan_version_id")],
  ["addons", array(ATTACHMENT, "subscription_addons a", "a.subscription_id = s.id", "a.attached_at, a.id")],
  [
    "planHistory",
    array(PLAN_CHANGE, "subscription_plan_changes c", "c.subscription_id = s.id", "c.sequence"),
  ],
  ["cancelledAt", iso("s.cancelled_at")],
  ["endedAt", iso("s.ended_at")],
  ["createdAt", iso("s.created_at")],
];

/** `presentDeploymentDocument` over the deployments row `d`. */
const DOCUMENT: Fields = [
  ["deployment", object(DEPLOYMENT)],
  [
    "subscription",
    `(select row_to_json(j) from subscriptions s, lateral (select ${select(SUBSCRIPTION)}) j where s.deployment_id = d.id)`,
  ],
  ["events", array(EVENT, "deployment_events e", "e.deployment_id = d.id", "e.sequence")],
];

/** The SELECT list of the document: `tenant_id` (for the visibility check) and `body`, its JSON text. */
export const DEPLOYMENT_DOCUMENT_JSON_SELECT = `d.tenant_id::text as tenant_id, ${object(DOCUMENT)}::text as body`;

/** The deployment document of `$1` as JSON text in the contract's shape, with its tenant; no row when there is none. */
export const DEPLOYMENT_DOCUMENT_JSON = prepared(
  "arcadia_deployment_document_json",
  `select ${DEPLOYMENT_DOCUMENT_JSON_SELECT} from deployments d where d.id = $1`,
);

/** `presentLine` over the statement_lines row `l`. */
const LINE: Fields = [
  ["kind", "l.kind"],
  ["description", "l.description"],
  ["refId", "l.ref_id"],
  ["unitPriceCents", "l.unit_price_cents"],
  ["billableMs", "l.billable_ms"],
  ["periodMs", "l.period_ms"],
  ["amountCents", "l.amount_cents"],
];

/**
 * `presentInvoice` over the `statements` row `s`. `amountDueCents` is the domain's `amountDue`
 * (`collection/invoice.ts`: what is unpaid while open, else 0); the generated test holds them equal.
 */
const INVOICE_HEAD: Fields = [
  ["id", "s.id"],
  ["number", "s.number"],
  ["tenantId", "s.tenant_id"],
  ["deploymentId", "s.deployment_id"],
  ["subscriptionId", "s.subscription_id"],
  ["periodStart", iso("s.period_start")],
  ["periodEnd", iso("s.period_end")],
  ["currency", "s.currency"],
  ["totalCents", "s.total_cents"],
  ["status", "s.status"],
  ["amountPaidCents", "s.amount_paid_cents"],
  ["amountDueCents", "case when s.status = 'open' then s.total_cents - s.amount_paid_cents else 0 end"],
  ["issuedAt", iso("s.issued_at")],
  ["dueAt", iso("s.due_at")],
  ["paidAt", iso("s.paid_at")],
  ["voidedAt", iso("s.voided_at")],
];
const INVOICE: Fields = [
  ...INVOICE_HEAD,
  ["lines", array(LINE, "statement_lines l", "l.statement_id = s.id", "l.position")],
];

/**
 * The invoice of the `statements` row `s` as a json value in the contract's shape: what the outbox's
 * invoice events carry (`recordInvoiceEvents` in events/outbox.ts), built from the row as it stands.
 */
export const INVOICE_JSON = object(INVOICE);

/**
 * The same invoice when its lines come from elsewhere than the table (rows a statement is writing,
 * which the statement cannot read back): `lines` is a json array of `LINE_JSON` in position order.
 */
export const invoiceJsonWithLines = (lines: string) => object([...INVOICE_HEAD, ["lines", lines]]);

/** One invoice line of the `statement_lines`-shaped row `l` as a json value (`presentLine`). */
export const LINE_JSON = object(LINE);

/**
 * A page of a keyset list as one row: `items` (the JSON array text of at most `limit` items),
 * `more` (whether a further row exists) and the instant and id of the last item, for the cursor.
 * `$1` is the limit; `conditions` use the parameters after it.
 */
function page(
  name: string,
  fields: Fields,
  table: string,
  alias: string,
  instant: string,
  conditions: readonly string[],
): Prepared {
  const where = conditions.length > 0 ? `where ${conditions.join(" and ")}` : "";
  return prepared(
    name,
    `select coalesce('[' || string_agg(p.item, ',' order by p.n) filter (where p.n <= $1) || ']', '[]') as items,
       count(*) > $1 as more,
       max(p.at) filter (where p.n = $1) as last_at,
       max(p.id) filter (where p.n = $1) as last_id
  from (select row_number() over (order by ${alias}.${instant}, ${alias}.id) as n, ${object(fields)}::text as item,
               ${iso(`${alias}.${instant}`)} as at, ${alias}.id::text as id
          from ${table} ${alias} ${where}
         order by ${alias}.${instant}, ${alias}.id
         limit $1 + 1) p`,
  );
}

/** Which filters a list request has: each combination is a query of its own (indexes stay usable). */
export interface DeploymentFilters {
  readonly tenant: boolean;
  readonly state: boolean;
  readonly cursor: boolean;
}

/**
 * `GET /deployments` (oldest first) for the filters given. Parameters: `$1` limit, then the tenant
 * id, the state and the cursor's instant and id, each only if its filter is present, in that order.
 */
export function deploymentsPage(filters: DeploymentFilters): Prepared {
  const conditions: string[] = [];
  let next = 2;
  if (filters.tenant) conditions.push(`d.tenant_id = $${next++}::uuid`);
  if (filters.state) conditions.push(`d.state = $${next++}::text`);
  if (filters.cursor) conditions.push(`(d.created_at, d.id) > ($${next++}::timestamptz, $${next++}::uuid)`);
  const key = `${Number(filters.tenant)}${Number(filters.state)}${Number(filters.cursor)}`;
  return page(`arcadia_deployments_page_${key}`, DEPLOYMENT, "deployments", "d", "created_at", conditions);
}

export interface InvoiceFilters {
  readonly tenant: boolean;
  readonly deployment: boolean;
  readonly cursor: boolean;
}

/**
 * `GET /invoices` (issue order) for the filters given. Parameters: `$1` limit, then the tenant id,
 * the deployment id and the cursor's instant and id, each only if its filter is present.
 */
export function invoicesPage(filters: InvoiceFilters): Prepared {
  const conditions: string[] = [];
  let next = 2;
  if (filters.tenant) conditions.push(`s.tenant_id = $${next++}::uuid`);
  if (filters.deployment) conditions.push(`s.deployment_id = $${next++}::uuid`);
  if (filters.cursor) conditions.push(`(s.issued_at, s.id) > ($${next++}::timestamptz, $${next++}::uuid)`);
  const key = `${Number(filters.tenant)}${Number(filters.deployment)}${Number(filters.cursor)}`;
  return page(`arcadia_invoices_page_${key}`, INVOICE, "statements", "s", "issued_at", conditions);
}

/** FNV-1a of `text`, 8 hex digits: names a function after its body. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * `DEPLOYMENT_DOCUMENT_JSON` as a PL/pgSQL function, for connections pooled per transaction
 * (`DATABASE_POOLING=transaction`): there nothing may be prepared by name, and planning the query
 * on every request costs more than running it, while PL/pgSQL caches its query's plan per server
 * connection, which the pooler keeps. Its body is the query's own SELECT, so the document has
 * one definition; it is named after that body, so a process running another version of the
 * document (a rolling deploy) calls its own function. `migrateAndSeed` creates it (and the read
 * creates it if missing).
 */
const documentFunctionName = `arcadia_document_json_${fingerprint(DEPLOYMENT_DOCUMENT_JSON_SELECT)}`;
export const DEPLOYMENT_DOCUMENT_JSON_FUNCTION = {
  name: documentFunctionName,
  create: `create or replace function ${documentFunctionName}(p_id uuid) returns table (tenant_id text, body text)
language plpgsql stable as $fn$
#variable_conflict use_column
begin
  return query select ${DEPLOYMENT_DOCUMENT_JSON_SELECT} from deployments d where d.id = p_id;
end
$fn$`,
  call: `select tenant_id, body from ${documentFunctionName}($1::uuid)`,
} as const;
