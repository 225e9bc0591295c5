/**
 * ptimer itself, through its public API from dist/ (run `npm run build` first). The timer's
 * loop route (bench/ptimer-routes.ts) records a timestamp and ctx.tick per run in the worker.
 * After pt.run() and a short warm-up, pt.start() begins the timer afresh (new vars, new grid);
 * the window opens when that has resolved and closes before pt.stop().
 * Lateness is measured against each worker's grid: tick k is due at t0 + k * period (synced
 * types) or at t0 + k * period for the k-th run of a basic timer (which sleeps an interval
 * before each run), t0 being fixed by the first run's ctx.deadline. The timestamps are the
 * route's own, so the figures include everything between the engine's deadline and the
 * route's first line. A dropped tick shows as a gap in the ticks, not as lateness.
 * ptimer's own list() figures are kept beside the bench's for comparison.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EngineWorkerReport } from '../catalog.js';
import { periodLabel } from '../catalog.js';
import { startCpuMeter } from '../cpu-meter.js';
import { nowNs } from '../run-recorder.js';
import { latenessFromGrid, type RecordedRuns } from '../stats.js';
import type { Approach, MeasuredWorker } from './approach.js';

const DIST_INDEX = new URL('../../dist/index.js', import.meta.url);
const ROUTES = new URL('../ptimer-routes.ts', import.meta.url);
const WARM_UP_MS = 200;

export interface PtimerVariant {
  /** 0 basic, 1 sync, 2 slice, 3 synced slice. */
  type: 0 | 1 | 2 | 3;
  /** Left out: the engine's default ('auto'). */
  spin?: string;
  nworkers: number;
  ntasks?: number;
  nslices?: number;
}

interface BenchMessage {
  timer: string;
  worker: number;
  event: string;
  data: unknown;
}

interface EngineWorkerInfo extends EngineWorkerReport {
  worker: number;
}

/** The slice of dist/index.js the bench uses. */
interface PtimerModule {
  defineConfig: (config: unknown) => unknown;
  PTimer: new (
    config: unknown,
    options: { routes: URL; log?: { level: string } },
  ) => {
    on(event: 'message', listener: (message: BenchMessage) => void): unknown;
    on(event: 'routeError', listener: (info: { worker: number; route: string; message: string }) => void): unknown;
    on(event: 'workerExit', listener: (info: { worker: number; code: number; error?: Error }) => void): unknown;
    run(): Promise<void>;
    start(timer: string): Promise<void>;
    list(): Array<{ name: string; workers: EngineWorkerInfo[] }>;
    stop(): Promise<void>;
  };
}

async function loadPtimer(): Promise<PtimerModule> {
  if (!existsSync(fileURLToPath(DIST_INDEX))) {
    throw new Error('dist/index.js is missing: run `npm run build` (npm run bench does) before measuring ptimer');
  }
  const module = (await import(DIST_INDEX.href)) as Partial<PtimerModule>;
  if (typeof module.PTimer !== 'function' || typeof module.defineConfig !== 'function') {
    throw new Error('dist/index.js does not export PTimer and defineConfig: is the engine built?');
  }
  return module as PtimerModule;
}

export function ptimerApproach(variant: PtimerVariant): Approach {
  return async (ctx) => {
    const { PTimer, defineConfig } = await loadPtimer();
    const timer = {
      name: 'bench',
      type: variant.type,
      interval: periodLabel(ctx.periodNs),
      nworkers: variant.nworkers,
      ...(variant.spin !== undefined && { spin: variant.spin }),
      ...(variant.ntasks !== undefined && { ntasks: variant.ntasks }),
      ...(variant.nslices !== undefined && { nslices: variant.nslices }),
      start: 'BENCH_START',
      loop: 'BENCH_LOOP',
      end: 'BENCH_END',
    };
    const pt = new PTimer(defineConfig({ timer: [timer] }), { routes: ROUTES, log: { level: 'warn' } });
    const runsByWorker = new Map<number, RecordedRuns>();
    pt.on('message', (message) => {
      if (message.event !== 'bench-runs') return;
      const runs = message.data as RecordedRuns & { firstDeadlineNs: number; firstTick: number };
      runsByWorker.set(message.worker, { ...runs, anchorNs: runs.firstDeadlineNs - runs.firstTick * ctx.periodNs });
    });

    // A route error or a worker restart would spoil the figures: say so beside them.
    const notes: string[] = [];
    pt.on('routeError', (info) => notes.push(`route error in worker ${info.worker} (${info.route}): ${info.message}`));
    pt.on('workerExit', (info) =>
      notes.push(`worker ${info.worker} thread exited (code ${info.code}): ${String(info.error ?? '')}`),
    );

    await pt.run();
    // Warm up, then start the timer again: the first runs after a thread starts are late by
    // 200-400 us while V8 compiles the engine's code (measured), which says nothing about
    // the steady state. Main-thread timers get the same throwaway run.
    await sleep(WARM_UP_MS);
    await pt.start('bench');
    const cpuPercent = startCpuMeter();
    await sleep(ctx.durationMs);
    const stopNs = nowNs();
    const cpu = cpuPercent();
    const engine = pt.list().find((t) => t.name === 'bench')?.workers ?? [];
    await pt.stop();
    // The end routes' messages are normally in before stop() resolves; allow them a moment.
    for (let waited = 0; runsByWorker.size < variant.nworkers && waited < 5000; waited += 50) await sleep(50);
    if (runsByWorker.size < variant.nworkers) {
      throw new Error(`only ${runsByWorker.size} of ${variant.nworkers} workers sent their runs from the end route`);
    }

    const workers: MeasuredWorker[] = [...runsByWorker.entries()]
      .sort(([a], [b]) => a - b)
      .map(([worker, runs]) => {
        const info = engine.find((w) => w.worker === worker);
        return {
          worker,
          series: latenessFromGrid(runs, ctx.periodNs, stopNs),
          ...(info && {
            engine: {
              iterations: info.iterations,
              overruns: info.overruns,
              errors: info.errors,
              lateness: info.lateness,
            },
          }),
        };
      });
    return { status: 'ok', cpuPercent: cpu, workers, ...(notes.length && { notes: notes.slice(0, 20) }) };
  };
}
