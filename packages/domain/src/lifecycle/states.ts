export const DEPLOYMENT_STATES = [
  "trial",
  "active",
  "past_due",
  "paused",
  "suspended",
  "cancelled",
  "archived",
] as const;

export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** The lifecycle map of SPEC §3.2: every allowed (from → to). Anything not listed is invalid. */
export const TRANSITION_MAP: Readonly<Record<DeploymentState, readonly DeploymentState[]>> = {
  trial: ["active", "past_due", "suspended", "cancelled"],
  active: ["past_due", "paused", "suspended", "cancelled"],
  past_due: ["active", "suspended", "cancelled"],
  paused: ["active", "cancelled"],
  suspended: ["active", "cancelled"],
  cancelled: ["archived"],
  archived: [],
};

export function isInTransitionMap(from: DeploymentState, to: DeploymentState): boolean {
  return TRANSITION_MAP[from].includes(to);
}

/** States during which a deployment is billed (SPEC §3.5). */
export const BILLABLE_STATES: ReadonlySet<DeploymentState> = new Set(["active", "past_due"]);

export function isBillableState(state: DeploymentState): boolean {
  return BILLABLE_STATES.has(state);
}

export function isDeploymentState(value: string): value is DeploymentState {
  return (DEPLOYMENT_STATES as readonly string[]).includes(value);
}
