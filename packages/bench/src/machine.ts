import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";

/** The short commit of the checkout, or "unknown". */
export function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/**
 * A sentence on how busy the machine was (load averages at the start and the end of the run next
 * to the core count): figures from a busy shared machine say so.
 */
export function busyNote(): { end(): string } {
  const before = loadavg()[0]!;
  return {
    end() {
      const after = loadavg()[0]!;
      const cores = cpus().length;
      const busy = Math.max(before, after) > cores;
      return `${busy ? "Measured on a busy shared machine" : "Measured"}: load average ${before.toFixed(1)} at the start and ${after.toFixed(1)} at the end, on ${cores} cores${busy ? " (other jobs ran alongside; compare ratios, not absolute figures)" : ""}.`;
    },
  };
}
