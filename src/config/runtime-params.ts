/**
 * ptimer's own runtime parameters (the reference has none of them): the shared thread
 * pool's size, the restart limit, the start-up and command timeouts, when a route
 * counts as stuck, and each scheduler thread's heap. Each has a default and a bound (limits.ts).
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';
import {
  MAX_RESTART_DEATHS,
  MAX_RESTART_WINDOW_NS,
  MAX_STUCK_AFTER,
  MAX_THREADS,
  MAX_TIMEOUT_NS,
  MIN_COMMAND_TIMEOUT_NS,
  MIN_STARTUP_TIMEOUT_NS,
} from './limits.js';
import type { ResolvedRuntime } from './types.js';
import { parseBoundedDuration, parseInteger, parseRate } from './values.js';

export const RUNTIME_KEYS = [
  'default_threads',
  'restart_limit',
  'startup_timeout',
  'command_timeout',
  'stuck_after',
  'max_heap',
] as const;

/** A scheduler thread's heap (V8 old space), in MB, when the config does not say: a route that leaks dies at this size, not at the machine's. */
export const DEFAULT_MAX_HEAP_MB = 1024;
const MIN_HEAP_MB = 16;
const MAX_HEAP_MB = 65_536;
export type RuntimeKey = (typeof RUNTIME_KEYS)[number];

const NS_PER_MS = 1e6;

/** Resolves each runtime parameter; `at(key, fn)` attaches the key to a ConfigError. */
export function resolveRuntime(
  params: Partial<Record<RuntimeKey, unknown>>,
  at: <T>(key: string, fn: () => T) => T,
): ResolvedRuntime {
  const { default_threads, restart_limit, startup_timeout, command_timeout, stuck_after, max_heap } = params;
  const threads = at('default_threads', () =>
    default_threads === undefined
      ? Math.max(1, Math.min(MAX_THREADS, availableParallelism()))
      : parseInteger(default_threads, 'default_threads', 1, MAX_THREADS, 'a number of threads'),
  );
  const restartLimit = at('restart_limit', () => {
    if (restart_limit === undefined) return { deaths: 5, windowMs: 60_000 };
    const rate = parseRate(restart_limit, 'restart_limit', {
      maxCount: MAX_RESTART_DEATHS,
      maxWindowNs: MAX_RESTART_WINDOW_NS,
      example: '5/60s',
    });
    if (rate.windowNs < NS_PER_MS) {
      throw new ConfigError('restart_limit', restart_limit, 'the window must be at least 1ms, e.g. 5/60s');
    }
    return { deaths: rate.count, windowMs: rate.windowNs / NS_PER_MS };
  });
  const startupTimeoutMs = at('startup_timeout', () =>
    startup_timeout === undefined
      ? 10_000
      : parseBoundedDuration(startup_timeout, 'startup_timeout', MIN_STARTUP_TIMEOUT_NS, MAX_TIMEOUT_NS) / NS_PER_MS,
  );
  const commandTimeoutMs = at('command_timeout', () =>
    command_timeout === undefined
      ? 5_000
      : parseBoundedDuration(command_timeout, 'command_timeout', MIN_COMMAND_TIMEOUT_NS, MAX_TIMEOUT_NS) / NS_PER_MS,
  );
  const stuckAfterIntervals = at('stuck_after', () =>
    stuck_after === undefined
      ? 10
      : parseInteger(stuck_after, 'stuck_after', 1, MAX_STUCK_AFTER, 'a number of intervals'),
  );
  const maxHeapMb = at('max_heap', () =>
    max_heap === undefined
      ? DEFAULT_MAX_HEAP_MB
      : parseInteger(max_heap, 'max_heap', MIN_HEAP_MB, MAX_HEAP_MB, 'a heap size in MB per scheduler thread'),
  );
  return { threads, restartLimit, startupTimeoutMs, commandTimeoutMs, stuckAfterIntervals, maxHeapMb };
}
