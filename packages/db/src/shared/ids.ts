import { randomFillSync } from "node:crypto";

let lastMs = -1;
let sequence = 0;

/** Random bytes drawn 4 KiB at a time: one system call per 512 ids rather than one per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * UUID version 7: a 48-bit millisecond timestamp, then a 12-bit per-process counter, then random
 * bits. Ids sort in creation order, which keeps indexes compact and gives lists a stable tiebreak.
 */
export function newId(nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  } else {
    lastMs = nowMs;
    sequence = 0;
  }
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 8;
  // 48 bits of milliseconds as 12 hex digits (exact: well below 2^53).
  const time = lastMs.toString(16).padStart(12, "0");
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-` +
    `7${HEX[sequence >> 8]![1]}${HEX[sequence & 0xff]}-` +
    `${HEX[0x80 | (pool[r]! & 0x3f)]}${HEX[pool[r + 1]!]}-` +
    `${HEX[pool[r + 2]!]}${HEX[pool[r + 3]!]}${HEX[pool[r + 4]!]}${HEX[pool[r + 5]!]}${HEX[pool[r + 6]!]}${HEX[pool[r + 7]!]}`
  );
}
