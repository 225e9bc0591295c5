/**
 * npm nanotimer: absolute deadlines on process.hrtime, reached by re-checking the clock from
 * setImmediate over and over (below 25 ms it never sleeps), so it keeps a core busy.
 * Its schedule begins when its setInterval has parsed its arguments (10-150 us after the
 * call); the bench reads that origin (its intervalT1) so that runs are judged against
 * nanotimer's own schedule, as cyclictest's and ptimer's are against theirs.
 */
import NanoTimer from 'nanotimer';
import type { Approach } from './approach.js';
import { measureMainThreadTimer } from './main-thread-timer.js';

export const measureNanotimer: Approach = (ctx) =>
  measureMainThreadTimer(ctx, (periodNs, onRun) => {
    const timer = new NanoTimer();
    timer.setInterval(onRun, '', `${Math.round(periodNs / 1000)}u`);
    const [seconds, nanoseconds] = (timer as unknown as { intervalT1: [number, number] }).intervalT1;
    return { disarm: () => timer.clearInterval(), scheduleStartNs: seconds * 1e9 + nanoseconds };
  });
