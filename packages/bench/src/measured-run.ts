// What the benchmarks share: a fresh database on the admin server for each run, dropped
// afterwards, and the measurement of one piece of work (wall time, peak RSS and heap sampled every
// 10 ms).

import { randomBytes } from "node:crypto";
import { connect } from "@arcadia/db";
import pg from "pg";

export type Orm = Awaited<ReturnType<typeof connect>>;

/** `url` with its database changed to `name`. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A database of its own on the server of `adminUrl` (named `arcadia_bench_<label>_…`), and how to drop it. */
export async function freshDatabase(
  adminUrl: string,
  label = "run",
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `arcadia_bench_${label}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Runs `work` on a database of its own (`freshDatabase`), dropped afterwards. */
export async function inFreshDatabase<T>(adminUrl: string, work: (orm: Orm) => Promise<T>): Promise<T> {
  const db = await freshDatabase(adminUrl);
  try {
    const orm = await connect({ url: db.url, poolSize: 4 });
    try {
      return await work(orm);
    } finally {
      await orm.close(true);
    }
  } finally {
    await db.drop();
  }
}

export interface Measured<T> {
  readonly value: T;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
}

/**
 * Times `work` and samples the process's memory while it runs. The garbage left by whatever came
 * before (seeding 100k rows) is collected first (with `--expose-gc`), so the peaks are the work's own.
 */
export async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  (globalThis as { gc?: () => void }).gc?.();
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 10);
  const started = performance.now();
  try {
    const value = await work();
    const seconds = (performance.now() - started) / 1000;
    return {
      value,
      seconds: Math.round(seconds * 1000) / 1000,
      peakRssMb: Math.round(peakRss / 1048576),
      peakHeapMb: Math.round(peakHeap / 1048576),
    };
  } finally {
    clearInterval(sampler);
  }
}
