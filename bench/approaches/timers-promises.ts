/** `for await (const _ of setInterval(period))` from node:timers/promises. */
import { setInterval as intervals } from 'node:timers/promises';
import type { Approach } from './approach.js';
import { measureMainThreadTimer } from './main-thread-timer.js';

export const measureTimersPromises: Approach = (ctx) =>
  measureMainThreadTimer(ctx, (periodNs, onRun) => {
    const abort = new AbortController();
    void (async () => {
      try {
        for await (const _ of intervals(periodNs / 1e6, undefined, { signal: abort.signal })) onRun();
      } catch (error) {
        if ((error as Error).name !== 'AbortError') throw error;
      }
    })();
    return () => abort.abort();
  });
