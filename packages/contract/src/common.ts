import {
  CATALOG_CODE_PATTERN,
  CATALOG_CODE_RULE,
  CURRENCY_PATTERN,
  CURRENCY_RULE,
  DECIMAL_TEXT_PATTERN,
  DECIMAL_TEXT_RULE,
  ERROR_CODES,
  MAX_CENTS,
} from "@arcadia/domain";
import { z } from "zod";

/** Ids are uuids; any string is accepted here and an unknown one answers NOT_FOUND. */
export const ZId = z.string().min(1).max(100).describe("uuid");
export const ZInstant = z.iso.datetime({ offset: false }).describe("ISO-8601 UTC instant");
export const ZCents = z.number().int().describe("integer minor units (cents)");
export const ZNonNegativeCents = z
  .number()
  .int()
  .min(0)
  .max(MAX_CENTS)
  .describe("integer minor units (cents)");
export const ZDecimal = z
  .string()
  .regex(DECIMAL_TEXT_PATTERN, DECIMAL_TEXT_RULE)
  .describe("decimal quantity as a string");
export const ZCurrency = z.string().regex(CURRENCY_PATTERN, CURRENCY_RULE);
/** A catalog code being looked up: an unknown one answers NOT_FOUND / UNKNOWN_PLAN, not 400. */
export const ZCode = z.string().min(1).max(63);
/** A new catalog code (plan, add-on, resource kind), in the domain's pattern. */
export const ZCatalogCode = z.string().regex(CATALOG_CODE_PATTERN, CATALOG_CODE_RULE);

/**
 * Text the domain counts in characters (code points, as JSON Schema's maxLength does, where zod's
 * max counts UTF-16 units): checked with the domain's own predicate, published with its bounds.
 */
export function characters(
  bounds: { min?: number; max: number },
  accepts: (text: string) => boolean,
  rule: string,
) {
  return z
    .string()
    .refine(accepts, rule)
    .meta({ ...(bounds.min !== undefined ? { minLength: bounds.min } : {}), maxLength: bounds.max });
}
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
