import type { ActorRef } from "../lifecycle/actors.ts";
import { actorColumns, DeploymentEvent } from "../lifecycle/event.ts";
import type { DeploymentState } from "../lifecycle/states.ts";
import { checkTransition } from "../lifecycle/transition.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import {
  Deployment,
  DISPLAY_NAME_RULE,
  isDisplayName,
  isReason,
  type LlmMode,
  REASON_RULE,
  SLUG_PATTERN,
  SLUG_RULE,
} from "./deployment.ts";

export interface NewDeployment {
  readonly id: string;
  readonly eventId: string;
  readonly tenantId: string;
  readonly slug: string;
  readonly displayName: string;
  readonly region: string;
  readonly llmMode?: LlmMode;
  readonly trial?: boolean;
  readonly templateCode?: string | null;
  readonly templateVersion?: string | null;
  readonly actor: ActorRef;
  readonly now: Date;
  /** The configured regions a deployment may be placed in. */
  readonly regions: readonly string[];
}

function validateFields(
  fields: { slug?: string; displayName?: string; region?: string },
  regions: readonly string[],
) {
  const problems: Record<string, string> = {};
  if (fields.slug !== undefined && !SLUG_PATTERN.test(fields.slug)) {
    problems.slug = SLUG_RULE;
  }
  if (fields.displayName !== undefined && !isDisplayName(fields.displayName)) {
    problems.displayName = DISPLAY_NAME_RULE;
  }
  if (fields.region !== undefined && !regions.includes(fields.region)) {
    problems.region = `must be one of ${regions.join(", ")}`;
  }
  return problems;
}

/** A new deployment (active, or trial when asked) and its creation event (fromState null). */
export function createDeployment(
  input: NewDeployment,
): Result<{ deployment: Deployment; event: DeploymentEvent }> {
  const problems = validateFields(input, input.regions);
  if (Object.keys(problems).length > 0) {
    return fail("VALIDATION_FAILED", "The deployment is not valid.", { fields: problems });
  }
  const state: DeploymentState = input.trial ? "trial" : "active";
  const deployment = new Deployment({
    id: input.id,
    tenantId: input.tenantId,
    slug: input.slug,
    displayName: input.displayName,
    region: input.region,
    state,
    llmMode: input.llmMode ?? "shared",
    billingActionSuspended: false,
    templateCode: input.templateCode ?? null,
    templateVersion: input.templateVersion ?? null,
    lastEventSequence: 1,
    createdAt: input.now,
    updatedAt: input.now,
  });
  const event = new DeploymentEvent({
    id: input.eventId,
    deploymentId: input.id,
    sequence: 1,
    fromState: null,
    toState: state,
    ...actorColumns(input.actor),
    reason: null,
    occurredAt: input.now,
  });
  return ok({ deployment, event });
}

export interface TransitionInput {
  readonly to: DeploymentState;
  readonly actor: ActorRef;
  readonly reason?: string | null;
  readonly eventId: string;
  readonly now: Date;
}

/**
 * Moves a deployment to another state if the map and the actor allow it, and returns the event
 * that records it. The deployment is changed in place only on success.
 */
export function transitionDeployment(
  deployment: Deployment,
  input: TransitionInput,
): Result<DeploymentEvent> {
  if (input.reason != null && !isReason(input.reason)) {
    return fail("VALIDATION_FAILED", "The reason is too long.", {
      fields: { reason: REASON_RULE },
    });
  }
  const from = deployment.state;
  const checked = checkTransition({
    from,
    to: input.to,
    actor: input.actor,
    billingActionSuspended: deployment.billingActionSuspended,
  });
  if (!checked.ok) return checked;

  const sequence = deployment.lastEventSequence + 1;
  deployment.state = input.to;
  deployment.lastEventSequence = sequence;
  deployment.updatedAt = input.now;
  return ok(
    new DeploymentEvent({
      id: input.eventId,
      deploymentId: deployment.id,
      sequence,
      fromState: from,
      toState: input.to,
      ...actorColumns(input.actor),
      reason: input.reason ?? null,
      occurredAt: input.now,
    }),
  );
}

export interface DeploymentPatch {
  readonly displayName?: string;
  readonly llmMode?: LlmMode;
  readonly billingActionSuspended?: boolean;
}

/** Edits the mutable fields; the operator override may be changed only by a platform admin. */
export function updateDeployment(
  deployment: Deployment,
  patch: DeploymentPatch,
  actor: ActorRef,
  now: Date,
): Result<Deployment> {
  if (
    patch.billingActionSuspended !== undefined &&
    !(actor.type === "principal" && actor.role === "platform_admin")
  ) {
    return fail("FORBIDDEN", "Only a platform admin may change billingActionSuspended.", {
      field: "billingActionSuspended",
    });
  }
  const problems = validateFields({ displayName: patch.displayName }, []);
  if (Object.keys(problems).length > 0) {
    return fail("VALIDATION_FAILED", "The change is not valid.", { fields: problems });
  }
  if (patch.displayName !== undefined) deployment.displayName = patch.displayName;
  if (patch.llmMode !== undefined) deployment.llmMode = patch.llmMode;
  if (patch.billingActionSuspended !== undefined)
    deployment.billingActionSuspended = patch.billingActionSuspended;
  deployment.updatedAt = now;
  return ok(deployment);
}
