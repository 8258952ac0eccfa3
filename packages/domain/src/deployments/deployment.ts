import type { DeploymentState } from "../lifecycle/states.ts";
import { characterCount } from "../shared/text.ts";

export const LLM_MODES = ["none", "shared", "byok"] as const;
export type LlmMode = (typeof LLM_MODES)[number];

export const DEFAULT_REGIONS = ["au-syd", "au-mel", "ap-sgp", "eu-fra", "us-iad"] as const;

/** A DNS label: lower-case letters, digits and inner hyphens, 3–63 characters. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
export const SLUG_RULE = "must be a DNS label: 3–63 lower-case letters, digits or inner hyphens";
/** Display names and transition reasons are counted in characters (code points). */
export const DISPLAY_NAME_MAX = 100;
export const DISPLAY_NAME_RULE = `must be 1–${DISPLAY_NAME_MAX} characters`;
export const REASON_MAX = 500;
export const REASON_RULE = `must be at most ${REASON_MAX} characters`;

export function isDisplayName(text: string): boolean {
  return characterCount(text) <= DISPLAY_NAME_MAX && text.trim().length > 0;
}

export function isReason(text: string): boolean {
  return characterCount(text) <= REASON_MAX;
}

/** One app instance of a tenant: the billable unit. */
export class Deployment {
  id!: string;
  tenantId!: string;
  slug!: string;
  displayName!: string;
  region!: string;
  state!: DeploymentState;
  llmMode!: LlmMode;
  /** Operator override: while true the worker takes no transition on this deployment. */
  billingActionSuspended!: boolean;
  templateCode!: string | null;
  templateVersion!: string | null;
  /** Sequence number of the newest event; the next event takes this plus one. */
  lastEventSequence!: number;
  createdAt!: Date;
  updatedAt!: Date;

  constructor(props: DeploymentProps) {
    Object.assign(this, props);
  }
}

export type DeploymentProps = { [K in keyof Deployment]: Deployment[K] };
