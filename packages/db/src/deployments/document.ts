import type { AddonAttachment, Deployment, DeploymentEvent, PlanChange, Subscription } from "@arcadia/domain";

/** A deployment as the API shows it: its row, its subscription (if any) with add-ons and plan history, its events. */
export interface SubscriptionDocument {
  readonly subscription: Subscription;
  readonly addons: AddonAttachment[];
  readonly planChanges: PlanChange[];
}

export interface DeploymentDocument {
  readonly deployment: Deployment;
  readonly subscription: SubscriptionDocument | null;
  readonly events: DeploymentEvent[];
}
