import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

/** The PostgreSQL server the benchmarks make their databases on (`BENCH_DATABASE_URL`, else the tests'). */
export const benchDatabaseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * A process's CPU time so far (user and system), in seconds, and its name, from /proc; null where
 * /proc does not show it (not Linux, or the process is gone).
 */
export function processCpu(pid: number | string): { name: string; seconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    // After the name: the state, then fields 4 on; utime and stime are fields 14 and 15, in ticks
    // of USER_HZ (100 on Linux).
    const fields = stat.slice(close + 2).split(" ");
    return {
      name: stat.slice(stat.indexOf("(") + 1, close),
      seconds: (Number(fields[11]) + Number(fields[12])) / 100,
    };
  } catch {
    return null;
  }
}
