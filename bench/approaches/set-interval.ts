/** Node's own setInterval. Below 1 ms Node rounds the delay up to 1 ms. */
import type { Approach } from './approach.js';
import { measureMainThreadTimer } from './main-thread-timer.js';

export const measureSetInterval: Approach = (ctx) =>
  measureMainThreadTimer(ctx, (periodNs, onRun) => {
    const handle = setInterval(onRun, periodNs / 1e6);
    return () => clearInterval(handle);
  });
