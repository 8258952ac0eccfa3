import {
  DEPLOYMENT_STATES,
  Deployment,
  DeploymentEvent,
  LLM_MODES,
  REASON_MAX,
  ROLES,
  SLUG_PATTERN,
  Tenant,
} from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { rowMapping } from "./row-mapping.ts";
import { instant, oneOf } from "./types.ts";

export const DeploymentSchema = new EntitySchema<Deployment>({
  class: Deployment,
  tableName: "deployments",
  properties: {
    id: { type: "uuid", primary: true },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id" },
    slug: { type: "text" },
    displayName: { type: "text" },
    region: { type: "text" },
    state: { type: "text", enum: true, items: () => DEPLOYMENT_STATES as unknown as string[] },
    llmMode: { type: "text", enum: true, items: () => LLM_MODES as unknown as string[] },
    billingActionSuspended: { type: "boolean", default: false },
    templateCode: { type: "text", nullable: true },
    templateVersion: { type: "text", nullable: true },
    lastEventSequence: { type: "integer" },
    createdAt: { ...instant },
    updatedAt: { ...instant },
  },
  uniques: [{ name: "deployments_tenant_slug_unique", properties: ["tenantId", "slug"] }],
  indexes: [{ name: "deployments_tenant_created_index", properties: ["tenantId", "createdAt", "id"] }],
  checks: [
    { name: "deployments_slug_check", expression: `slug ~ '${SLUG_PATTERN.source}'` },
    { name: "deployments_sequence_check", expression: "last_event_sequence >= 1" },
  ],
});

export const DeploymentEventSchema = new EntitySchema<DeploymentEvent>({
  class: DeploymentEvent,
  tableName: "deployment_events",
  properties: {
    id: { type: "uuid", primary: true },
    deploymentId: { kind: "m:1", entity: () => Deployment, mapToPk: true, fieldName: "deployment_id" },
    sequence: { type: "integer" },
    fromState: { type: "text", nullable: true },
    toState: { type: "text", enum: true, items: () => DEPLOYMENT_STATES as unknown as string[] },
    actorType: { type: "text" },
    actorId: { type: "text" },
    actorRole: { type: "text", nullable: true },
    reason: { type: "text", nullable: true },
    occurredAt: { ...instant },
  },
  uniques: [
    { name: "deployment_events_deployment_sequence_unique", properties: ["deploymentId", "sequence"] },
  ],
  checks: [
    { name: "deployment_events_sequence_check", expression: "sequence >= 1" },
    {
      name: "deployment_events_from_state_check",
      expression: `(sequence = 1 and from_state is null) or (sequence > 1 and from_state is not null and ${oneOf("from_state", DEPLOYMENT_STATES)})`,
    },
    {
      name: "deployment_events_actor_check",
      expression: `(actor_type = 'system' and actor_role is null) or (actor_type = 'principal' and actor_role is not null and ${oneOf("actor_role", ROLES)})`,
    },
    {
      name: "deployment_events_reason_check",
      expression: `reason is null or char_length(reason) <= ${REASON_MAX}`,
    },
  ],
});

const DEPLOYMENT_ROWS = rowMapping(DeploymentSchema, Deployment);

/** The deployments columns `deploymentFromRow` reads (listed, so prepared queries survive new columns). */
export const DEPLOYMENT_COLUMNS = (alias: string) => DEPLOYMENT_ROWS.columns(alias);

/** A `deployments` row as the domain's Deployment. */
export const deploymentFromRow = DEPLOYMENT_ROWS.fromRow;

const DEPLOYMENT_EVENT_ROWS = rowMapping(DeploymentEventSchema, DeploymentEvent);

/** The deployment_events columns `deploymentEventFromRow` reads. */
export const DEPLOYMENT_EVENT_COLUMNS = (alias: string) => DEPLOYMENT_EVENT_ROWS.columns(alias);

/** A `deployment_events` row as the domain's DeploymentEvent. */
export const deploymentEventFromRow = DEPLOYMENT_EVENT_ROWS.fromRow;
