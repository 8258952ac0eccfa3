export { WORKER_NODE_FLAGS, workerProcessArgs } from "./node-flags.ts";
export { ROLLOVER_ITEMS, runPass, type Scheduler, startScheduler } from "./scheduler.ts";
export * from "./webhooks/index.ts";
