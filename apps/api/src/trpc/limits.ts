// Limits the server and the typed client share. No imports: the client bundle stays this small.

/** The most calls one tRPC batch may carry; a larger batch is refused whole (400). */
export const MAX_BATCH_CALLS = 50;

/**
 * The longest URL the typed client puts a batch of queries in (it splits a batch to stay under):
 * Node refuses a request line and headers over 16 KiB, and headers need room too.
 */
export const MAX_BATCH_URL_LENGTH = 8 * 1024;
