import * as C from "@arcadia/contract";
import { getEvent, listEvents, presentFeedEvent } from "@arcadia/db";
import type { EventType } from "@arcadia/domain";
import { operation } from "./operation.ts";

export const listEventsOp = operation({
  name: "events.list",
  kind: "query",
  method: "get",
  path: "/events",
  status: 200,
  summary: "The event feed: every event exactly once, in a stable order, resumable from nextCursor",
  access: "any",
  input: C.ZListEventsRequest,
  output: C.ZEventPage,
  run: async ({ ctx, principal }, { type, ...query }) => {
    const page = await listEvents(ctx, principal, {
      ...query,
      types: type ? (type.split(",") as EventType[]) : undefined,
    });
    return { items: page.items.map(presentFeedEvent), nextCursor: page.nextCursor };
  },
});

export const getEventOp = operation({
  name: "events.get",
  kind: "query",
  method: "get",
  path: "/events/{id}",
  status: 200,
  summary: "One event",
  access: "any",
  input: C.ZGetEventRequest,
  output: C.ZEvent,
  run: async ({ ctx, principal }, input) => presentFeedEvent(await getEvent(ctx, principal, input.id)),
});
