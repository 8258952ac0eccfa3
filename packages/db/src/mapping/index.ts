import { InvoiceLineSchema, InvoiceSchema } from "./billing.ts";
import { AddonSchema, PlanSchema, PlanVersionSchema } from "./catalog.ts";
import {
  CollectionScheduleSchema,
  InvoiceNumberCounterSchema,
  PaymentMethodSchema,
  PaymentSchema,
  SandboxChargeSchema,
  TenantDunningPolicySchema,
} from "./collection.ts";
import { DeploymentEventSchema, DeploymentSchema } from "./deployments.ts";
import { EventRecordSchema } from "./events.ts";
import { IdempotencyRecordSchema } from "./idempotency.ts";
import { CloudResourceSchema } from "./resources.ts";
import { AddonAttachmentSchema, PlanChangeSchema, SubscriptionSchema } from "./subscriptions.ts";
import { ApiTokenSchema, TenantSchema } from "./tenancy.ts";
import {
  WebhookAttemptSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookFanoutSchema,
  WebhookLeaseSchema,
} from "./webhooks.ts";

export { CollectionSchedule, InvoiceNumberCounter, SandboxCharge } from "./collection.ts";
export { EventRecord } from "./events.ts";
export { IdempotencyRecord } from "./idempotency.ts";
export { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from "./webhooks.ts";

export const entities = [
  TenantSchema,
  ApiTokenSchema,
  DeploymentSchema,
  DeploymentEventSchema,
  PlanSchema,
  PlanVersionSchema,
  AddonSchema,
  SubscriptionSchema,
  AddonAttachmentSchema,
  PlanChangeSchema,
  InvoiceSchema,
  InvoiceLineSchema,
  CloudResourceSchema,
  IdempotencyRecordSchema,
  PaymentSchema,
  PaymentMethodSchema,
  TenantDunningPolicySchema,
  InvoiceNumberCounterSchema,
  CollectionScheduleSchema,
  SandboxChargeSchema,
  EventRecordSchema,
  WebhookEndpointSchema,
  WebhookDeliverySchema,
  WebhookAttemptSchema,
  WebhookFanoutSchema,
  WebhookLeaseSchema,
];
