/** The cases of the scale scenario (bench/scale.ts): many timers, many workers, and one alone. */
export interface ScaleCase {
  name: string;
  what: string;
  timers: number;
  workersPerTimer: number;
  intervalNs: number;
}

export const SCALE_CASES: readonly ScaleCase[] = [
  { name: '64x10ms', what: '64 sync timers at 10 ms', timers: 64, workersPerTimer: 1, intervalNs: 10_000_000 },
  {
    name: '1000x100ms',
    what: '1,000 sync timers at 100 ms',
    timers: 1000,
    workersPerTimer: 1,
    intervalNs: 100_000_000,
  },
  {
    name: '1x32at1ms',
    what: '1 sync timer x 32 workers at 1 ms',
    timers: 1,
    workersPerTimer: 32,
    intervalNs: 1_000_000,
  },
  { name: '1x1ms', what: '1 sync timer at 1 ms', timers: 1, workersPerTimer: 1, intervalNs: 1_000_000 },
];
