export { newApp } from "./app.ts";
export type { AppRouter, CallContext, RouterInputs, RouterOutputs } from "./client.ts";
export { createClient } from "./client.ts";
export { listen } from "./listen.ts";
export { startApi } from "./server.ts";
export type { Services } from "./services.ts";
