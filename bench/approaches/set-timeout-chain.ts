/**
 * A self-correcting setTimeout chain, the usual fix for setInterval's drift: each run asks
 * for the time left to its own absolute deadline t_armed + (i + 1) * period.
 */
import { nowNs } from '../run-recorder.js';
import type { Approach } from './approach.js';
import { measureMainThreadTimer } from './main-thread-timer.js';

export const measureSetTimeoutChain: Approach = (ctx) =>
  measureMainThreadTimer(ctx, (periodNs, onRun) => {
    const armedNs = nowNs();
    let runs = 0;
    let handle: NodeJS.Timeout;
    const run = () => {
      onRun();
      runs++;
      const nextDeadlineNs = armedNs + (runs + 1) * periodNs;
      handle = setTimeout(run, Math.max(0, (nextDeadlineNs - nowNs()) / 1e6));
    };
    handle = setTimeout(run, periodNs / 1e6);
    return () => clearTimeout(handle);
  });
