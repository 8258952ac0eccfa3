import { fail, ok, type Result } from "../shared/errors.ts";
import { type ActorRef, actorMayTake } from "./actors.ts";
import { type DeploymentState, isInTransitionMap } from "./states.ts";

export interface TransitionRequest {
  readonly from: DeploymentState;
  readonly to: DeploymentState;
  readonly actor: ActorRef;
  /** The operator override: while true, every `system` transition is refused. */
  readonly billingActionSuspended: boolean;
}

/**
 * Decides whether a transition may happen, in the order SPEC §3.2 fixes: a pair outside the map is
 * INVALID_TRANSITION whoever asks; a valid pair the actor may not take is TRANSITION_NOT_ALLOWED.
 */
export function checkTransition(request: TransitionRequest): Result<void> {
  const { from, to, actor } = request;
  if (!isInTransitionMap(from, to)) {
    return fail("INVALID_TRANSITION", `A deployment cannot move from ${from} to ${to}.`, { from, to });
  }
  if (!actorMayTake(actor, from, to)) {
    const who = actor.type === "system" ? "the system" : `role ${actor.role}`;
    return fail("TRANSITION_NOT_ALLOWED", `${who} may not move a deployment from ${from} to ${to}.`, {
      from,
      to,
    });
  }
  if (actor.type === "system" && request.billingActionSuspended) {
    return fail(
      "TRANSITION_NOT_ALLOWED",
      "Billing actions are suspended on this deployment by an operator; the system may not transition it.",
      { from, to, billingActionSuspended: true },
    );
  }
  return ok(undefined);
}
