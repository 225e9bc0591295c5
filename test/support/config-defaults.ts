/**
 * What resolveConfig gives when the config says nothing about the runtime, the queues and the
 * tables: written out once for the tests that compare whole resolved configs.
 */
import { availableParallelism } from 'node:os';

export const DEFAULT_RUNTIME = {
  threads: availableParallelism(),
  restartLimit: { deaths: 5, windowMs: 60_000 },
  startupTimeoutMs: 10_000,
  commandTimeoutMs: 5_000,
  stuckAfterIntervals: 10,
  maxHeapMb: 1024,
};

/** A resolved config's fields besides timers and warnings, when none are configured. */
export const NO_DATA = { queues: [], tables: [], runtime: DEFAULT_RUNTIME };
