/**
 * Records when each run of a timer callback began, with as little work as possible in the
 * callback: one clock read and two typed-array stores. The arrays are sized for the whole
 * window up front so that no allocation (and no GC pause it might cause) lands in a run.
 */
import type { RecordedRuns } from './stats.js';

export class RunRecorder implements RecordedRuns {
  times: Float64Array;
  ticks: Float64Array | null;
  count = 0;
  anchorNs?: number;

  constructor(expectedRuns: number, withTicks = false) {
    const capacity = Math.max(1024, Math.ceil(expectedRuns * 1.2) + 64);
    this.times = new Float64Array(capacity);
    this.ticks = withTicks ? new Float64Array(capacity) : null;
  }

  /** Call first thing in the callback. */
  record(tick = this.count): void {
    const now = Number(process.hrtime.bigint());
    if (this.count === this.times.length) this.grow();
    this.times[this.count] = now;
    if (this.ticks) this.ticks[this.count] = tick;
    this.count++;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    if (this.ticks) {
      const ticks = new Float64Array(this.ticks.length * 2);
      ticks.set(this.ticks);
      this.ticks = ticks;
    }
  }
}

export const nowNs = (): number => Number(process.hrtime.bigint());
