/**
 * The upper bound of every config input, in one place (docs/configuration.md, "Parameters", lists them).
 *
 * Why these numbers: a worker costs memory and a share of a thread, so nworkers and the
 * total are capped where a 2-core machine is long past useful (1,024 per timer, 100,000 in
 * all); 10,000 timers covers a carrier shaping per-customer rates; ntasks and nslices are
 * counts a route loops over, capped where a loop run could never finish in an interval.
 * Strings and names are capped so that no parameter can make a message, a metric label or
 * a log line huge. Queues and tables live in shared memory, so their sizes are capped too.
 */

export const MAX_TIMERS = 10_000;
export const MAX_NWORKERS = 1_024;
export const MAX_TOTAL_WORKERS = 100_000;
export const MAX_NTASKS = 1_000_000_000;
export const MAX_NSLICES = 1_000_000;

/** Longest string any parameter may be (a timer string is a few hundred characters). */
export const MAX_STRING_CHARS = 65_536;
/** Longest name of a timer, queue, table or thread group. */
export const MAX_NAME_CHARS = 128;
/** Most items read from any array parameter before its own bound is checked. */
export const MAX_ARRAY_ITEMS = 100_000;

export const MAX_THREADS = 256;
export const MAX_RESTART_DEATHS = 1_000;
export const MAX_RESTART_WINDOW_NS = 24 * 3600 * 1e9;
export const MIN_STARTUP_TIMEOUT_NS = 100e6;
export const MIN_COMMAND_TIMEOUT_NS = 10e6;
export const MAX_TIMEOUT_NS = 600e9;
export const MAX_STUCK_AFTER = 1_000_000;

/** limit=N/W: N at most this, W at most a day. */
export const MAX_LIMIT_COUNT = 1_000_000_000;
export const MAX_LIMIT_WINDOW_NS = 24 * 3600 * 1e9;

export const MAX_QUEUES = 1_000;
export const DEFAULT_QUEUE_SIZE = 10_000;
export const MAX_QUEUE_SIZE = 10_000_000;
export const DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024;
export const MAX_QUEUE_BYTES = 1024 * 1024 * 1024;
/** All queues together: their shared memory is allocated up front. */
export const MAX_TOTAL_QUEUE_BYTES = 4 * 1024 * 1024 * 1024;

export const MAX_TABLES = 1_000;
/** htable's size exponent: 2^size buckets. */
export const DEFAULT_TABLE_SIZE = 10;
export const MIN_TABLE_SIZE = 1;
export const MAX_TABLE_SIZE = 20;
/** A table holds at most 64 entries per bucket, and never more than MAX_TABLE_ENTRIES. */
export const TABLE_ENTRIES_PER_BUCKET = 64;
export const MAX_TABLE_ENTRIES = 1_000_000;
export const MAX_AUTOEXPIRE_S = 2 ** 31 - 1;

/** Most entries of a table of size exponent `size`: 2^size * 64, at most 1,000,000. */
export function tableMaxEntries(size: number): number {
  return Math.min(2 ** size * TABLE_ENTRIES_PER_BUCKET, MAX_TABLE_ENTRIES);
}
