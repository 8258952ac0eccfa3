import type { ActorRef, Role } from "./actors.ts";
import type { DeploymentState } from "./states.ts";

/** One entry of a deployment's audit log: its creation (fromState null) or a transition. */
export class DeploymentEvent {
  id!: string;
  deploymentId!: string;
  /** 1, 2, 3… per deployment, without gaps. */
  sequence!: number;
  fromState!: DeploymentState | null;
  toState!: DeploymentState;
  actorType!: ActorRef["type"];
  actorId!: string;
  actorRole!: Role | null;
  reason!: string | null;
  occurredAt!: Date;

  constructor(props: DeploymentEventProps) {
    Object.assign(this, props);
  }
}

export type DeploymentEventProps = { [K in keyof DeploymentEvent]: DeploymentEvent[K] };

export function eventActor(event: DeploymentEvent): ActorRef {
  if (event.actorType === "system") return { type: "system", id: event.actorId };
  if (event.actorRole === null) throw new Error(`event ${event.id} has a principal actor without a role`);
  return { type: "principal", id: event.actorId, role: event.actorRole };
}

export function actorColumns(actor: ActorRef): Pick<DeploymentEvent, "actorType" | "actorId" | "actorRole"> {
  return {
    actorType: actor.type,
    actorId: actor.id,
    actorRole: actor.type === "principal" ? actor.role : null,
  };
}
