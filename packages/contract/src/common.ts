import { ERROR_CODES } from "@arcadia/domain";
import { z } from "zod";

/** Ids are uuids; any string is accepted here and an unknown one answers NOT_FOUND. */
export const ZId = z.string().min(1).max(100).describe("uuid");
export const ZInstant = z.iso.datetime({ offset: false }).describe("ISO-8601 UTC instant");
export const ZCents = z.number().int().describe("integer minor units (cents)");
export const ZNonNegativeCents = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .describe("integer minor units (cents)");
export const ZDecimal = z
  .string()
  .regex(/^-?\d{1,18}(\.\d{1,6})?$/, 'must be a decimal number written as a string, e.g. "50" or "0.5"')
  .describe("decimal quantity as a string");
export const ZCurrency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as AUD");
export const ZCode = z.string().min(1).max(63);
export const ZLimit = z.coerce.number().int().min(1).max(200).optional();
export const ZCursor = z.string().max(500).optional();

export const ZError = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error" });

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
