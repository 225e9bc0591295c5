/**
 * Which thread each worker runs on: a pure function of the resolved timers.
 *
 * - `thread=pool` (the default): the shared pool of `threads` threads. Each worker goes to the
 *   pool thread with the least load so far, load being runs per second (1 / interval), so a
 *   timer's workers spread over the pool and busy timers do not pile onto one thread. A pool
 *   thread is started only if a worker is placed on it.
 * - `thread=own`: each worker of the timer on a thread of its own (isolation and precision).
 * - `thread=NAME`: the timers naming the same group share one thread.
 *
 * Within a thread, workers keep the order they were placed in (timer order, then worker
 * index): among equal deadlines they run in that order.
 */
import type { ResolvedTimer } from '../config/types.js';

export interface PlacedWorker {
  timer: ResolvedTimer;
  worker: number;
}

export interface PlannedThread {
  /** How list() shows it: `pool-0`, `own:queue/3`, `group:gateways`. */
  label: string;
  workers: PlacedWorker[];
}

export function planThreads(timers: readonly ResolvedTimer[], poolSize: number): PlannedThread[] {
  const pool = Array.from({ length: Math.max(1, poolSize) }, (_, i) => ({
    label: `pool-${i}`,
    workers: [] as PlacedWorker[],
    load: 0,
  }));
  const groups = new Map<string, PlannedThread>();
  const own: PlannedThread[] = [];
  for (const timer of timers) {
    for (let worker = 0; worker < timer.nworkers; worker++) {
      const placed = { timer, worker };
      const thread = timer.thread;
      if (thread.kind === 'own') {
        own.push({ label: `own:${timer.name}/${worker}`, workers: [placed] });
      } else if (thread.kind === 'group') {
        let group = groups.get(thread.name);
        if (!group) groups.set(thread.name, (group = { label: `group:${thread.name}`, workers: [] }));
        group.workers.push(placed);
      } else {
        let least = pool[0]!;
        for (const candidate of pool) if (candidate.load < least.load) least = candidate;
        least.workers.push(placed);
        least.load += 1e9 / timer.intervalNs;
      }
    }
  }
  const usedPool = pool.filter((t) => t.workers.length > 0).map(({ label, workers }) => ({ label, workers }));
  return [...usedPool, ...groups.values(), ...own];
}
