export { runPass, type Scheduler, startScheduler } from "./scheduler.ts";
