/**
 * The soak: `npm run soak -- --minutes N`. Runs timers of every type - basic (0), sync (1),
 * slice (2), synced-slice (3) - and one whose loop awaits a loopback HTTP request to a server
 * in this process, for N minutes; polls `list()` every second, as an operator's dashboard would.
 *
 * Per window (a minute by default) and at the end, per worker:
 * - runs and overruns (from list()) and, for the synced types, the ticks due computed from the
 *   clock alone: floor((now - first loop deadline) / interval) + 1, the first deadline being
 *   the one the worker's first loop run was given. runs + overruns should equal ticks due
 *   (0 or 1 short: the tick due this instant may be running). Basic types have no grid: runs only.
 * - lateness p99 of that window, from the routes' own histograms (bench/soak-routes.ts: each
 *   run notes hrtime - ctx.deadline; workers report their counts once a second by ctx.emit),
 *   not list()'s lateness, which is cumulative.
 * And the process: RSS and V8 heap (main thread + each scheduler thread's, as its routes report
 * it), with their slope in MB/min by least squares over the per-second samples, over the whole
 * run and after the warm-up (the first quarter, at most 60 s).
 *
 * It exits 1 when a check fails (a synced worker whose runs + overruns are off its ticks due by
 * more than 1, a route error, a thread restart, a slice with the wrong tasks, a worker not
 * running at the end), 2 on a usage error.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PTimer, type PTimerConfig, type TimerInfo } from '../dist/index.js';
import { renderTable } from '../src/cli/table.js';
import { formatUs } from './format.js';
import { BUCKETS, REPORT_EVENT, bucketUpperUs, type SoakReport } from './soak-routes.js';

export const HELP = `usage: npm run soak -- --minutes N [--window SECONDS] [--json FILE]

Runs timers of each type (basic, sync, slice, synced-slice) and one with async I/O (a loopback
HTTP request per run) for N minutes, polls list() every second, and prints per window and at
the end: per worker runs + overruns against the ticks due, lateness p99 of the window, and the
RSS and heap with their slope in MB/min. Exits 1 if a check fails.

  --minutes N        how long, 1 to 1440 (required)
  --window SECONDS   length of a reporting window, 5 to 3600 (default 60)
  --json FILE        also write every figure (samples, windows, summary) as JSON to FILE
  --help             this text`;

export class UsageError extends Error {}

export interface SoakOptions {
  minutes: number;
  windowS: number;
  json: string | null;
}

function integerIn(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return n;
}

export function parseSoakArgs(argv: string[]): SoakOptions | 'help' {
  let values: { minutes?: string; window?: string; json?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        minutes: { type: 'string' },
        window: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}; the options are --minutes N, --window SECONDS, --json FILE, --help`,
    );
  }
  if (values.help) return 'help';
  if (values.minutes === undefined) throw new UsageError('--minutes N is required (1 to 1440)');
  return {
    minutes: integerIn('minutes', values.minutes, 1, 1440),
    windowS: values.window === undefined ? 60 : integerIn('window', values.window, 5, 3600),
    json: values.json === undefined || values.json === '' ? null : values.json,
  };
}

/** The timers: every type, one with async I/O; the 1 ms one on a thread of its own. */
export const SOAK_TIMERS = [
  { name: 'basic', type: 0, interval: '10ms', nworkers: 2, loop: 'SOAK_LOOP', end: 'SOAK_END' },
  { name: 'sync', type: 1, interval: '1ms', nworkers: 1, loop: 'SOAK_LOOP', end: 'SOAK_END', thread: 'own' },
  {
    name: 'slice',
    type: 2,
    interval: '20ms',
    nworkers: 2,
    ntasks: 100,
    nslices: 4,
    loop: 'SOAK_LOOP',
    end: 'SOAK_END',
  },
  {
    name: 'synced-slice',
    type: 3,
    interval: '5ms',
    nworkers: 4,
    ntasks: 1000,
    nslices: 10,
    loop: 'SOAK_LOOP',
    end: 'SOAK_END',
  },
  { name: 'io', type: 1, interval: '20ms', nworkers: 2, loop: 'SOAK_IO_LOOP', end: 'SOAK_END' },
] as const;

const ROUTES = fileURLToPath(new URL('./soak-routes.ts', import.meta.url));
const MB = 2 ** 20;

// ---- figures ---------------------------------------------------------------------------------

/** Least-squares slope of y over x. 0 with fewer than 2 points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The q-quantile of a histogram, as its bucket's upper bound in us; null when empty. */
export function quantileUs(counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let b = 0; b < BUCKETS; b++) total += counts[b]!;
  if (total === 0) return null;
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += counts[b]!;
    if (seen >= q * total) return bucketUpperUs(b);
  }
  return bucketUpperUs(BUCKETS - 1);
}

// ---- per worker -------------------------------------------------------------------------------

interface WindowFigures {
  runs: number;
  overruns: number;
  /** Synced types: ticks due in the window, from the clock; null for basic types. */
  due: number | null;
  p99Us: number | null;
  lateRuns: number;
}

class Track {
  readonly key: string;
  readonly synced: boolean;
  readonly intervalNs: number;
  firstDeadline: number | null = null;
  /** Restarts seen when firstDeadline was last set: due counts from the last start only. */
  starts = 0;
  badSlices = 0;
  reportedRuns = 0;
  heapUsed = 0;
  readonly windowCounts = new Float64Array(BUCKETS);
  readonly totalCounts = new Float64Array(BUCKETS);
  readonly windows: WindowFigures[] = [];
  /** list() figures and the clock at the start of the current window. */
  mark: { iterations: number; overruns: number; due: number | null } | null = null;
  last: TimerInfo['workers'][number] | null = null;

  constructor(
    readonly timer: (typeof SOAK_TIMERS)[number],
    readonly worker: number,
    intervalNs: number,
  ) {
    this.key = `${timer.name}/${worker}`;
    this.synced = timer.type === 1 || timer.type === 3;
    this.intervalNs = intervalNs;
  }

  /** Ticks due from the first loop deadline through `nowNs`; null for basic types or before the first run. */
  dueAt(nowNs: number): number | null {
    if (!this.synced || this.firstDeadline === null) return null;
    return Math.max(0, Math.floor((nowNs - this.firstDeadline) / this.intervalNs) + 1);
  }

  take(report: SoakReport): void {
    if (this.firstDeadline !== report.firstDeadline) {
      this.firstDeadline = report.firstDeadline;
      this.starts++;
    }
    this.badSlices += report.badSlices;
    this.reportedRuns += report.runs;
    this.heapUsed = report.heapUsed;
    for (const [b, n] of report.counts) {
      this.windowCounts[b]! += n;
      this.totalCounts[b]! += n;
    }
  }

  closeWindow(w: TimerInfo['workers'][number], nowNs: number): WindowFigures {
    const due = this.dueAt(nowNs);
    const mark = this.mark ?? { iterations: 0, overruns: 0, due: 0 };
    let lateRuns = 0;
    for (const n of this.windowCounts) lateRuns += n;
    const figures: WindowFigures = {
      runs: w.iterations - mark.iterations,
      overruns: w.overruns - mark.overruns,
      due: due === null ? null : due - (mark.due ?? 0),
      p99Us: quantileUs(this.windowCounts, 0.99),
      lateRuns,
    };
    this.windows.push(figures);
    this.windowCounts.fill(0);
    this.mark = { iterations: w.iterations, overruns: w.overruns, due };
    return figures;
  }
}

// ---- the run ---------------------------------------------------------------------------------

interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  mainHeapMb: number;
  threadHeapMb: number;
  listMs: number;
}

function startServer(): Promise<{ server: Server; url: string; served: () => number }> {
  let served = 0;
  const server = createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/`, served: () => served });
    });
  });
}

const fmtMb = (mb: number) => `${mb.toFixed(1)} MB`;
const fmtSlope = (mbPerMin: number) => `${mbPerMin >= 0 ? '+' : ''}${mbPerMin.toFixed(3)} MB/min`;
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const hrNow = () => Number(process.hrtime.bigint());

export async function soak(
  options: SoakOptions,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<boolean> {
  const { server, url, served } = await startServer();
  const config: PTimerConfig = { timer: SOAK_TIMERS.map((t) => ({ ...t })) };
  const pt = await PTimer.create(config, { routes: ROUTES, log: { level: 'warn' }, data: { url } });
  const tracks = new Map<string, Track>();
  for (const t of SOAK_TIMERS) {
    const intervalNs = pt.timers.find((r) => r.name === t.name)!.intervalNs;
    for (let w = 0; w < t.nworkers; w++) tracks.set(`${t.name}/${w}`, new Track(t, w, intervalNs));
  }
  pt.on('message', (m) => {
    if (m.event === REPORT_EVENT) tracks.get(`${m.timer}/${m.worker}`)?.take(m.data as SoakReport);
  });
  let routeErrors = 0;
  const firstErrors: string[] = [];
  pt.on('routeError', (e) => {
    routeErrors++;
    if (firstErrors.length < 5) firstErrors.push(`${e.timer}/${e.worker} ${e.route}: ${e.message}`);
  });
  let threadDeaths = 0;
  pt.on('workerExit', () => threadDeaths++);

  const durationS = options.minutes * 60;
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadAtStart = load();
  out(`machine: ${availableParallelism()} cores, load average ${loadAtStart} (1, 5, 15 min)`);
  out(
    `soak: ${options.minutes} min, windows of ${options.windowS} s; timers: ${SOAK_TIMERS.map((t) => `${t.name} (type ${t.type}, ${t.interval}, ${t.nworkers} worker${t.nworkers > 1 ? 's' : ''}${'thread' in t ? `, thread ${t.thread}` : ''})`).join(', ')}; io GETs ${url}`,
  );
  await pt.run();
  const began = performance.now();
  const samples: Sample[] = [];
  let listed: TimerInfo[] = pt.list();
  const threadHeaps = () => {
    const perThread = new Map<string, number>();
    for (const t of listed)
      for (const w of t.workers) perThread.set(w.thread, tracks.get(`${t.name}/${w.worker}`)!.heapUsed);
    return [...perThread.values()].reduce((a, b) => a + b, 0) / MB;
  };
  let nextWindowS = options.windowS;
  for (let k = 1; k <= durationS; k++) {
    const wait = began + k * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const l0 = performance.now();
    listed = pt.list();
    const listMs = performance.now() - l0;
    const nowNs = hrNow();
    for (const t of listed) for (const w of t.workers) tracks.get(`${t.name}/${w.worker}`)!.last = w;
    const mem = process.memoryUsage();
    const threadHeapMb = threadHeaps();
    samples.push({
      t: k,
      rssMb: mem.rss / MB,
      mainHeapMb: mem.heapUsed / MB,
      threadHeapMb,
      heapMb: mem.heapUsed / MB + threadHeapMb,
      listMs,
    });
    if (k === nextWindowS || k === durationS) {
      const from = nextWindowS - options.windowS;
      nextWindowS += options.windowS;
      const rows: string[][] = [];
      for (const track of tracks.values()) {
        const f = track.closeWindow(track.last!, nowNs);
        rows.push([
          track.key,
          String(track.timer.type),
          track.last!.thread,
          String(f.runs),
          String(f.overruns),
          f.due === null ? '-' : String(f.due),
          f.due === null ? '-' : String(f.due - f.runs - f.overruns),
          formatUs(f.p99Us),
        ]);
      }
      const s = samples.at(-1)!;
      const header = `window ${clock(from)}-${clock(Math.min(k, durationS))}: RSS ${fmtMb(s.rssMb)}, heap ${fmtMb(s.heapMb)} (main ${fmtMb(s.mainHeapMb)}, threads ${fmtMb(s.threadHeapMb)}), route errors ${routeErrors}, thread deaths ${threadDeaths}, io requests ${served()}`;
      const table = renderTable(
        ['worker', 'type', 'thread', 'runs', 'overruns', 'due', 'short', 'late p99'],
        rows,
        new Set([3, 4, 5, 6, 7]),
      );
      out(header);
      out(table);
    }
  }
  // Final figures, read before stop (stop runs end routes, which change nothing counted here).
  listed = pt.list();
  const endNs = hrNow();
  const finalWorkers = new Map<string, TimerInfo['workers'][number]>(
    listed.flatMap((t) => t.workers.map((w) => [`${t.name}/${w.worker}`, w] as [string, TimerInfo['workers'][number]])),
  );
  const stopped = await pt.stop({ timeoutMs: 5_000 });
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));

  // ---- summary ----
  const failures: string[] = [];
  const rows: string[][] = [];
  const summaryWorkers = [];
  for (const track of tracks.values()) {
    const w = finalWorkers.get(track.key)!;
    const due = w.restarts === 0 ? track.dueAt(endNs) : null;
    const short = due === null ? null : due - w.iterations - w.overruns;
    const p99s = track.windows.map((f) => f.p99Us).filter((p): p is number => p !== null);
    const sorted = [...p99s].sort((a, b) => a - b);
    if (short !== null && (short < 0 || short > 1))
      failures.push(
        `${track.key}: runs ${w.iterations} + overruns ${w.overruns} = ${w.iterations + w.overruns}, ticks due ${due}`,
      );
    if (w.errors > 0) failures.push(`${track.key}: ${w.errors} route errors`);
    if (w.restarts > 0) failures.push(`${track.key}: ${w.restarts} thread restarts`);
    if (track.badSlices > 0)
      failures.push(`${track.key}: ${track.badSlices} runs with the wrong tasks for their slice`);
    if (w.state !== 'running') failures.push(`${track.key}: ${w.state} at the end`);
    rows.push([
      track.key,
      String(track.timer.type),
      track.timer.interval,
      w.thread,
      String(w.iterations),
      track.synced ? String(w.overruns) : '-',
      due === null ? '-' : String(due),
      short === null ? '-' : String(short),
      String(w.errors),
      String(w.restarts),
      formatUs(quantileUs(track.totalCounts, 0.99)),
      sorted.length
        ? `${formatUs(sorted[0])} / ${formatUs(sorted[Math.floor(sorted.length / 2)])} / ${formatUs(sorted.at(-1))}`
        : '-',
    ]);
    summaryWorkers.push({
      worker: track.key,
      type: track.timer.type,
      interval: track.timer.interval,
      thread: w.thread,
      runs: w.iterations,
      overruns: w.overruns,
      due,
      short,
      errors: w.errors,
      restarts: w.restarts,
      badSlices: track.badSlices,
      p99Us: quantileUs(track.totalCounts, 0.99),
      windows: track.windows,
    });
  }
  const minutes = samples.map((s) => s.t / 60);
  const warmup = Math.min(60, Math.floor(durationS / 4));
  const after = samples.filter((s) => s.t > warmup);
  const slopes = {
    rssAll: slope(
      minutes,
      samples.map((s) => s.rssMb),
    ),
    heapAll: slope(
      minutes,
      samples.map((s) => s.heapMb),
    ),
    rssAfterWarmup: slope(
      after.map((s) => s.t / 60),
      after.map((s) => s.rssMb),
    ),
    heapAfterWarmup: slope(
      after.map((s) => s.t / 60),
      after.map((s) => s.heapMb),
    ),
  };
  const listTimes = samples.map((s) => s.listMs).sort((a, b) => a - b);
  const rss = samples.map((s) => s.rssMb);
  out('');
  out(`summary (${options.minutes} min, ${samples.length} samples of list() one second apart):`);
  out(
    renderTable(
      [
        'worker',
        'type',
        'interval',
        'thread',
        'runs',
        'overruns',
        'ticks due',
        'short',
        'errors',
        'restarts',
        'late p99',
        'window p99 min / median / max',
      ],
      rows,
      new Set([4, 5, 6, 7, 8, 9, 10]),
    ),
  );
  out('');
  out(
    renderTable(
      ['memory', 'first', 'last', 'peak', 'slope (all)', `slope (after ${warmup} s)`],
      [
        [
          'RSS',
          fmtMb(rss[0]!),
          fmtMb(rss.at(-1)!),
          fmtMb(Math.max(...rss)),
          fmtSlope(slopes.rssAll),
          fmtSlope(slopes.rssAfterWarmup),
        ],
        [
          'heap (main + threads)',
          fmtMb(samples[0]!.heapMb),
          fmtMb(samples.at(-1)!.heapMb),
          fmtMb(Math.max(...samples.map((s) => s.heapMb))),
          fmtSlope(slopes.heapAll),
          fmtSlope(slopes.heapAfterWarmup),
        ],
      ],
      new Set([1, 2, 3, 4, 5]),
    ),
  );
  out('');
  out(
    `list(): ${listTimes.length} calls, median ${listTimes[Math.floor(listTimes.length / 2)]!.toFixed(3)} ms, max ${listTimes.at(-1)!.toFixed(3)} ms; io requests served ${served()}; route errors ${routeErrors}${firstErrors.length ? ` (${firstErrors.join('; ')})` : ''}; thread deaths ${threadDeaths}; terminated at stop ${stopped.terminated.length}`,
  );
  out(`load average at the start ${loadAtStart}, at the end ${load()} (1, 5, 15 min)`);
  out(
    failures.length === 0
      ? 'checks: all passed (runs + overruns = ticks due within 1, no errors, no restarts, slices right, all running)'
      : `checks FAILED:\n  ${failures.join('\n  ')}`,
  );
  if (options.json) {
    writeFileSync(
      options.json,
      `${JSON.stringify({ date: new Date().toISOString(), options, timers: SOAK_TIMERS, workers: summaryWorkers, samples, slopes, warmupS: warmup, listMs: { median: listTimes[Math.floor(listTimes.length / 2)], max: listTimes.at(-1) }, routeErrors, threadDeaths, failures }, null, 2)}\n`,
    );
    out(`figures written to ${options.json}`);
  }
  return failures.length === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let options: SoakOptions | 'help';
  try {
    options = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak: ${error.message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
  } else {
    const ok = await soak(options);
    process.exitCode = ok ? 0 : 1;
  }
}
