/**
 * The built-in demo: three timers, one of each common kind, and a real queue.
 *   pacer     - sync, every 1 ms: a precise heartbeat (watch its lateness).
 *   releaser  - synced slice, every 100 ms, 2 workers: takes queued "calls" off the `calls` queue
 *               (the host pushes them, see demo.ts), at most 50 per second in all: each worker
 *               runs every 100 ms and handles one of its 20 slices of 50 tasks per run (2 or 3
 *               tasks), so one worker releases 50 per 2 s, 25 per second, and two workers 50.
 *               Worker 1 starts 5 slices after worker 0, so one takes 2 while the other takes
 *               3: exactly 5 per 100 ms in all while calls are waiting. Each worker counts what
 *               it took in the `stats` table (key `released:WORKER`), which the host reads.
 *   optimizer - basic, every 500 ms: re-evaluates something, with state kept from start to end.
 * Run it with `npm start`, or `npx ptimer run examples/demo.config.ts` and control it with
 * `ptimer rpc` (under `ptimer run` nothing pushes calls, so the releaser finds none).
 * "Releasing" a call here means taking it off the queue and counting it; examples/api-pacer
 * sends what it takes.
 */
import { defineConfig, type RouteContext } from 'ptimer';

export default defineConfig({
  default_type: 1,
  default_interval: '1s',
  queue: ['name=calls;size=10000'],
  table: ['stats=>size=4'],
  timer: [
    'name=pacer;type=1;interval=1ms',
    'name=releaser;type=3;interval=100ms;nworkers=2;ntasks=50;nslices=20',
    {
      name: 'optimizer',
      type: 'basic',
      interval: '500ms',
      start: 'OPTIMIZER_START',
      loop: 'OPTIMIZER_LOOP',
      end: 'OPTIMIZER_END',
    },
  ],
  start: ['timer=releaser;route=RELEASER_START'],
  loop: ['timer=pacer;route=PACER_LOOP', 'timer=releaser;route=RELEASER_LOOP'],
});

export function PACER_LOOP(ctx: RouteContext) {
  ctx.vars.beats = ((ctx.vars.beats as number) ?? 0) + 1;
}

export function RELEASER_START(ctx: RouteContext) {
  // Two workers, twenty slices: worker 0 starts at slice 0, worker 1 at slice 5.
  ctx.ptimer.slice = ctx.ptimer.worker * 5;
}

export function RELEASER_LOOP(ctx: RouteContext) {
  // This slice's share of the tasks: 2 or 3 calls, fewer when fewer are waiting.
  const calls = ctx.queue('calls').take(ctx.ptimer.tasks);
  if (calls.length === 0) return;
  // A real releaser would send each call on here (its key is the Call-ID, its value the call).
  // The count is kept in the table, not in vars: it survives a restart of the worker, and only
  // this worker writes its key.
  const stats = ctx.table('stats');
  const key = `released:${ctx.ptimer.worker}`;
  stats.set(key, ((stats.get(key) as number | undefined) ?? 0) + calls.length);
}

export function OPTIMIZER_START(ctx: RouteContext) {
  ctx.vars.minimumMos = 3.5;
  ctx.log.info({ minimumMos: ctx.vars.minimumMos }, 'optimizer started');
}

export function OPTIMIZER_LOOP(ctx: RouteContext) {
  const mos = 3 + Math.random() * 1.5;
  ctx.vars.active = mos >= (ctx.vars.minimumMos as number);
}

export function OPTIMIZER_END(ctx: RouteContext) {
  ctx.log.info({ active: ctx.vars.active }, 'optimizer ended');
}
