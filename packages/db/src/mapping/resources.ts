import { CloudResource, Deployment, Tenant } from "@arcadia/domain";
import { EntitySchema } from "@mikro-orm/core";
import { instant, QuantityType } from "./types.ts";

export const CloudResourceSchema = new EntitySchema<CloudResource>({
  class: CloudResource,
  tableName: "cloud_resources",
  properties: {
    id: { type: "uuid", primary: true },
    deploymentId: { kind: "m:1", entity: () => Deployment, mapToPk: true, fieldName: "deployment_id" },
    tenantId: { kind: "m:1", entity: () => Tenant, mapToPk: true, fieldName: "tenant_id" },
    kind: { type: "text" },
    providerRef: { type: "text" },
    qty: { type: QuantityType },
    createdAt: { ...instant },
    releasedAt: { ...instant, nullable: true },
  },
  indexes: [{ name: "cloud_resources_deployment_index", properties: ["deploymentId", "createdAt"] }],
  checks: [{ name: "cloud_resources_qty_check", expression: "qty > 0" }],
});
