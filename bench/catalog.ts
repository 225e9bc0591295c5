/**
 * What the bench can measure: the approaches, the periods and the scenarios, by the names
 * that `--only` and `--scenario` accept, and the shapes that cross from a measuring child
 * process back to the orchestrator.
 */

export const APPROACH_NAMES = [
  'ptimer-sync',
  'ptimer-sync-spin0',
  'ptimer-basic',
  'setInterval',
  'setTimeout-chain',
  'timers-promises',
  'nanotimer',
  'cyclictest',
  'c-nanosleep',
] as const;

/** ptimer alone: 8 workers of one synced slice timer; measured at 1 ms only, after the others. */
export const MULTI_WORKER_APPROACH = 'ptimer-synced-slice-8w' as const;
export const MULTI_WORKER_PERIOD_NS = 1_000_000;

export type ApproachName = (typeof APPROACH_NAMES)[number] | typeof MULTI_WORKER_APPROACH;
export const ALL_APPROACH_NAMES: readonly ApproachName[] = [...APPROACH_NAMES, MULTI_WORKER_APPROACH];

/** Approaches that are programs outside Node.js: their absence is reported, not an error. */
export const EXTERNAL_APPROACHES: readonly ApproachName[] = ['cyclictest', 'c-nanosleep'];

export const SCENARIO_NAMES = ['quiet', 'busy', 'stress'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const SCENARIO_DESCRIPTIONS: Record<ScenarioName, string> = {
  quiet: 'nothing else asked of the machine',
  busy: "the measuring process's main-thread event loop does 5 ms of synchronous work every 20 ms",
  stress: '`stress-ng --cpu 2` loads both cores alongside',
};

export const DEFAULT_PERIODS_NS = [100_000, 1_000_000, 10_000_000];

/** '100us', '1ms', '10ms', '2s': the interval syntax ptimer accepts. */
export function periodLabel(periodNs: number): string {
  if (periodNs % 1_000_000_000 === 0) return `${periodNs / 1_000_000_000}s`;
  if (periodNs % 1_000_000 === 0) return `${periodNs / 1_000_000}ms`;
  if (periodNs % 1_000 === 0) return `${periodNs / 1_000}us`;
  return `${periodNs}ns`;
}

/** Parses '100us', '1ms', '10ms', '1s' into nanoseconds; null when it is not a period. */
export function parsePeriod(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(text.trim());
  if (!match) return null;
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[match[2] as 'ns' | 'us' | 'µs' | 'ms' | 's'];
  const ns = Math.round(Number(match[1]) * scale);
  return ns > 0 ? ns : null;
}

/** One measurement: one approach at one period in one scenario, in its own child process. */
export interface CaseSpec {
  approach: ApproachName;
  periodNs: number;
  scenario: ScenarioName;
  durationS: number;
  /** Where the child writes its CaseResult as JSON. */
  resultFile: string;
}

/** The figures of one series of runs (one thread, or one worker). Times in microseconds. */
export interface LatenessFigures {
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  minUs: number;
  meanUs: number;
  /** The last run's lateness: how far the schedule has slipped by the end. Null where the tool does not say. */
  driftUs: number | null;
  runsDue: number;
  runsMade: number;
  /** runsDue - runsMade: ticks dropped after overruns, or runs a lagging timer never made. */
  missed: number;
  /** Runs made a whole period or more late: where a timer that keeps its grid drops ticks instead. */
  lateByAPeriod: number;
  /** The lateness at percentile q, for the chart: [tail, us] with tail = -log10(1 - q) (0 = p0, 2 = p99, 3 = p99.9). */
  curve: Array<[number, number]>;
}

/** What ptimer's own `list()` said about a worker at the end of the window, to compare with the bench's figures. */
export interface EngineWorkerReport {
  iterations: number;
  overruns: number;
  errors: number;
  lateness: { p50: number; p99: number; max: number };
}

export interface WorkerResult {
  worker: number;
  figures: LatenessFigures;
  engine?: EngineWorkerReport;
}

export type CaseStatus = 'ok' | 'unavailable' | 'error';

export interface CaseResult {
  approach: ApproachName;
  period: string;
  periodNs: number;
  scenario: ScenarioName;
  durationS: number;
  status: CaseStatus;
  /** Why the case is unavailable or failed. */
  reason?: string;
  /** All runs together (for several workers: every worker's runs pooled). */
  figures?: LatenessFigures;
  /** CPU time of the whole measuring process (all threads) over the window, as % of one core. */
  cpuPercent?: number | null;
  /** Per worker, for ptimer (one entry for one worker). */
  workers?: WorkerResult[];
  notes?: string[];
}
