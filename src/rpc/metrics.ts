/**
 * `/metrics`: the per-worker numbers of `ptimer.list` (and the queues', tables' and limiters'
 * counts, metrics-data.ts) in the Prometheus text format,
 * through prom-client, in a Registry of our own (never the global one, so that a host
 * application's metrics and ours do not collide).
 *
 * The engine keeps the counts; every scrape reads one `list()` snapshot and writes it out.
 * Lateness arrives as p50/p99/max in microseconds (the engine's own estimator over the
 * worker's loop runs since it started), so it is exposed as a summary whose quantiles are
 * those estimates, in seconds, with the engine's `_sum` and `_count`, plus a gauge for the maximum.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerDropMetrics, type DropTotals } from './drop-log.js';
import type { TimerControl, TimerInfo, WorkerInfo } from '../control-types.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import { registerDataMetrics } from './metrics-data.js';

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The whole exposition, from a fresh snapshot of the timers. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** The control servers' drops and refusals (src/rpc/drop-log.ts), as ptimer_rpc_drops_total. */
  drops?: DropTotals;
  /** Also expose the process's own metrics (CPU, memory, event loop lag) under `ptimer_process_`/`ptimer_nodejs_`. Default true. */
  processMetrics?: boolean;
}

const LABELS = ['timer', 'worker'] as const;
const LATENESS_HELP =
  'How late loop runs started against their deadlines, in seconds, per timer and worker: quantiles 0.5 and 0.99 estimated over the loop runs of that worker so far; _sum and _count over the same runs.';
type Labels = Record<(typeof LABELS)[number], string>;

export function createMetrics(control: TimerControl, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  let snapshot: TimerInfo[] = [];

  const eachWorker = (fn: (labels: Labels, w: WorkerInfo, t: TimerInfo) => void): void => {
    for (const t of snapshot) for (const w of t.workers) fn({ timer: t.name, worker: String(w.worker) }, w, t);
  };
  const counter = (
    name: string,
    help: string,
    field: 'iterations' | 'overruns' | 'errors' | 'restarts' | 'lateJoins',
  ): void => {
    new Counter({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        eachWorker((labels, w) => this.inc(labels, nonNegative(w[field])));
      },
    });
  };

  counter('ptimer_loop_iterations_total', 'Loop runs made, per timer and worker.', 'iterations');
  counter(
    'ptimer_overruns_total',
    'Loop deadlines missed, per timer and worker: for synced types, grid points skipped because the previous run (or a stall) went past them.',
    'overruns',
  );
  counter('ptimer_route_errors_total', 'Route runs that threw or rejected, per timer and worker.', 'errors');
  counter(
    'ptimer_restarts_total',
    'Times a worker thread died (crashed or exited) and was started again, per timer and worker.',
    'restarts',
  );
  counter(
    'ptimer_late_joins_total',
    'Loop entries that missed their join point (the start route or the thread came late), per timer and worker; each is logged once.',
    'lateJoins',
  );

  new Gauge({
    name: 'ptimer_worker_paused',
    help: '1 if the worker is paused (by ptimer.pause, or after its end route), else 0.',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      eachWorker((labels, w) => this.set(labels, w.paused ? 1 : 0));
    },
  });
  new Gauge({
    name: 'ptimer_worker_route',
    help: 'The route each worker is in: 1 for its current route (start, loop, end, or none once ended), 0 for the others.',
    labelNames: [...LABELS, 'route'],
    registers: [registry],
    collect() {
      this.reset();
      eachWorker((labels, w) => {
        for (const route of ['start', 'loop', 'end', 'none']) this.set({ ...labels, route }, w.route === route ? 1 : 0);
      });
    },
  });
  new Gauge({
    name: 'ptimer_timer_workers',
    help: 'Workers per timer (nworkers).',
    labelNames: ['timer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of snapshot) this.set({ timer: t.name }, t.nworkers);
    },
  });
  new Gauge({
    name: 'ptimer_loop_lateness_max_seconds',
    help: 'The latest a loop run has started against its deadline, in seconds, per timer and worker, over its loop runs so far.',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      eachWorker((labels, w) => this.set(labels, usToSeconds(w.lateness?.max)));
    },
  });

  // A summary fed with the engine's quantile estimates; prom-client's Summary computes its
  // own from observations, which the main thread does not see, so this one is hand-made.
  registry.registerMetric({
    name: 'ptimer_loop_lateness_seconds',
    help: LATENESS_HELP,
    type: 'summary',
    get: () => {
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> = [];
      eachWorker((labels, w) => {
        values.push({ labels: { ...labels, quantile: 0.5 }, value: usToSeconds(w.lateness?.p50) });
        values.push({ labels: { ...labels, quantile: 0.99 }, value: usToSeconds(w.lateness?.p99) });
        values.push({ metricName: 'ptimer_loop_lateness_seconds_sum', labels, value: usToSeconds(w.lateness?.sum) });
        values.push({
          metricName: 'ptimer_loop_lateness_seconds_count',
          labels,
          value: nonNegative(w.lateness?.count),
        });
      });
      return { name: 'ptimer_loop_lateness_seconds', help: LATENESS_HELP, type: 'summary', values, aggregator: 'omit' };
    },
  } as unknown as Counter);

  registerDataMetrics(registry, control);
  if (options.drops) registerDropMetrics(registry, options.drops);

  // A node in a cluster adds its figures from the first scrape that finds it in one (not before it runs).
  let clusterMetrics = false;

  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'ptimer_' });

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      snapshot = control.list();
      if (!clusterMetrics && control.clusterStatus?.()) {
        registerClusterMetrics(registry, () => control.clusterStatus!());
        clusterMetrics = true;
      }
      return roundSamples(await registry.metrics());
    },
  };
}

/** Significant digits a sample keeps: more is binary noise (`0.005721988999999999` is `0.005721989`). */
const SAMPLE_DIGITS = 12;

/**
 * Every sample value of an exposition, rounded to SAMPLE_DIGITS significant digits. Values are
 * made by division (microseconds to seconds, CPU times) whose binary remainders would print
 * as `...999999999`; rounding the text covers every metric, prom-client's own included.
 */
export function roundSamples(text: string): string {
  return text.replace(
    /^([^#\n][^\n]* )(-?\d+\.\d+(?:e[+-]?\d+)?|-?\d+(?:\.\d+)?e[+-]?\d+)$/gm,
    (_, head: string, value: string) => {
      const n = Number(value);
      return `${head}${Number.isFinite(n) ? String(Number(n.toPrecision(SAMPLE_DIGITS))) : value}`;
    },
  );
}

function usToSeconds(us: number | undefined): number {
  return typeof us === 'number' && Number.isFinite(us) ? us / 1e6 : Number.NaN;
}

function nonNegative(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
