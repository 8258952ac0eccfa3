import { EntitySchema } from "@mikro-orm/core";
import { instant } from "./types.ts";

/** A POST's first response, kept so that a retry with the same key replays it (24 h). */
export class IdempotencyRecord {
  id!: string;
  principalId!: string;
  key!: string;
  requestHash!: string;
  statusCode!: number;
  responseBody!: unknown;
  createdAt!: Date;

  constructor(props: { [K in keyof IdempotencyRecord]: IdempotencyRecord[K] }) {
    Object.assign(this, props);
  }
}

export const IdempotencyRecordSchema = new EntitySchema<IdempotencyRecord>({
  class: IdempotencyRecord,
  tableName: "idempotency_keys",
  properties: {
    id: { type: "uuid", primary: true },
    principalId: { type: "text" },
    key: { type: "text" },
    requestHash: { type: "text" },
    statusCode: { type: "integer" },
    responseBody: { type: "json" },
    createdAt: { ...instant },
  },
  uniques: [{ name: "idempotency_keys_principal_key_unique", properties: ["principalId", "key"] }],
  indexes: [{ name: "idempotency_keys_created_index", properties: ["createdAt"] }],
});
