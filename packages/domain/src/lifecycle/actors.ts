import type { DeploymentState } from "./states.ts";

export const ROLES = ["platform_admin", "tenant_admin", "tenant_viewer"] as const;
export type Role = (typeof ROLES)[number];

/** Who did something, as recorded on an event: a person's token, or the worker. */
export type ActorRef =
  | { readonly type: "principal"; readonly id: string; readonly role: Role }
  | { readonly type: "system"; readonly id: string };

type Pair = `${DeploymentState}->${DeploymentState}`;

const TENANT_ADMIN_TRANSITIONS: ReadonlySet<Pair> = new Set<Pair>([
  "active->paused",
  "paused->active",
  "trial->active",
]);

const SYSTEM_TRANSITIONS: ReadonlySet<Pair> = new Set<Pair>([
  "trial->active",
  "trial->past_due",
  "active->past_due",
  "past_due->active",
  "past_due->suspended",
  "suspended->active",
  "suspended->cancelled",
  "cancelled->archived",
]);

/**
 * Whether this actor may take a transition that the map allows (SPEC §3.2). Callers check the
 * map first: this answers only the permission question.
 */
export function actorMayTake(actor: ActorRef, from: DeploymentState, to: DeploymentState): boolean {
  const pair: Pair = `${from}->${to}`;
  if (actor.type === "system") return SYSTEM_TRANSITIONS.has(pair);
  switch (actor.role) {
    case "platform_admin":
      return true;
    case "tenant_admin":
      return to === "cancelled" || TENANT_ADMIN_TRANSITIONS.has(pair);
    case "tenant_viewer":
      return false;
  }
}
