import { EVENT_TYPES } from "@arcadia/domain";
import { z } from "zod";
import { ZId, ZInstant, ZLimit } from "./common.ts";

export const ZEventType = z.enum(EVENT_TYPES);

const ONE_TYPE = `(?:${EVENT_TYPES.map((t) => t.replace(".", "\\.")).join("|")})`;

/** `?type=` names one event type or several, comma-separated. */
export const ZEventTypeFilter = z
  .string()
  .regex(
    new RegExp(`^${ONE_TYPE}(?:,${ONE_TYPE})*$`),
    `must be event types (${EVENT_TYPES.join(", ")}), comma-separated`,
  )
  .describe("one or more event types, comma-separated");

export const ZEvent = z
  .object({
    id: ZId,
    type: ZEventType,
    tenantId: ZId.nullable().describe(
      "null: a platform event (a platform-wide webhook endpoint disabled), seen by platform admins only",
    ),
    occurredAt: ZInstant,
    data: z.unknown().describe("the resource as the API shows it after the change"),
  })
  .meta({ id: "Event" });

export const ZListEventsRequest = z.strictObject({
  after: z.string().max(200).optional().describe("the nextCursor of a previous page"),
  type: ZEventTypeFilter.optional(),
  limit: ZLimit,
  tenantId: ZId.optional().describe("platform_admin only: one tenant's events"),
});

export const ZEventPage = z
  .object({
    items: z.array(ZEvent),
    nextCursor: z.string().describe("never null: on the last page, the cursor to resume from later"),
  })
  .meta({ id: "EventPage" });

export const ZGetEventRequest = z.strictObject({ id: ZId });
