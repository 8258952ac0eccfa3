// What every measured run in a process of its own shares (rollover-run.ts, collection-run.ts): a
// fresh database on the admin server for the run, dropped afterwards, and the measurement of one
// piece of work (wall time, peak RSS and heap sampled every 10 ms).

import { randomBytes } from "node:crypto";
import { connect } from "@arcadia/db";
import pg from "pg";

export type Orm = Awaited<ReturnType<typeof connect>>;

/** Runs `work` on a database of its own, created on the server of `adminUrl` and dropped afterwards. */
export async function inFreshDatabase<T>(adminUrl: string, work: (orm: Orm) => Promise<T>): Promise<T> {
  const name = `arcadia_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const orm = await connect({ url: url.toString(), poolSize: 4 });
  try {
    return await work(orm);
  } finally {
    await orm.close(true);
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
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
