import * as C from "@arcadia/contract";
import { advanceTestClock, getTestClock, presentClockAdvance, presentTestClock } from "@arcadia/db";
import { operation } from "./operation.ts";

export const getTestClockOp = operation({
  name: "tenants.clock",
  kind: "query",
  method: "get",
  path: "/tenants/{id}/clock",
  status: 200,
  summary: "A sandbox tenant's test clock",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZGetTestClockRequest,
  output: C.ZTestClock,
  run: async ({ ctx, principal }, input) => presentTestClock(await getTestClock(ctx, principal, input.id)),
});

export const advanceTestClockOp = operation({
  name: "tenants.advanceClock",
  kind: "mutation",
  method: "post",
  path: "/tenants/{id}/clock/advance",
  status: 200,
  summary:
    "Advance a sandbox tenant's test clock, running every pass due on the way at its own instant (at most 24 months per call)",
  access: "platform_admin, tenant_admin (own tenant)",
  input: C.ZAdvanceTestClockRequest,
  output: C.ZClockAdvance,
  run: async ({ ctx, principal }, input) =>
    presentClockAdvance(await advanceTestClock(ctx, principal, input.id, new Date(input.to))),
});
