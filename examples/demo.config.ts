/**
 * The built-in demo: three timers, one of each common kind.
 *   pacer     - sync, every 1 ms: a precise heartbeat (watch its lateness).
 *   releaser  - synced slice, every 100 ms, 2 workers: releases 50 queued "calls" per second,
 *               each worker its own slices, like the reference's call-rate shaping example.
 *   optimizer - basic, every 500 ms: re-evaluates something, with state kept from start to end.
 * Run it with `npm start`, or `npx ptimer run examples/demo.config.ts` and control it with `ptimer rpc`.
 */
import { defineConfig, type RouteContext } from 'ptimer';

export default defineConfig({
  default_type: 1,
  default_interval: '1s',
  timer: [
    'name=pacer;type=1;interval=1ms',
    'name=releaser;type=3;interval=100ms;nworkers=2;ntasks=50;nslices=10',
    { name: 'optimizer', type: 'basic', interval: '500ms', start: 'OPTIMIZER_START', loop: 'OPTIMIZER_LOOP', end: 'OPTIMIZER_END' },
  ],
  start: ['timer=releaser;route=RELEASER_START'],
  loop: ['timer=pacer;route=PACER_LOOP', 'timer=releaser;route=RELEASER_LOOP'],
});

export function PACER_LOOP(ctx: RouteContext) {
  ctx.vars.beats = ((ctx.vars.beats as number) ?? 0) + 1;
}

export function RELEASER_START(ctx: RouteContext) {
  // Two workers, ten slices: worker 0 starts at slice 0, worker 1 at slice 5.
  ctx.ptimer.slice = ctx.ptimer.worker * 5;
  ctx.vars.released = 0;
}

export function RELEASER_LOOP(ctx: RouteContext) {
  // Release this slice's share of the tasks (5 per 100 ms per worker = 50 per second in all).
  ctx.vars.released = (ctx.vars.released as number) + ctx.ptimer.tasks;
  if (ctx.ptimer.slice === 0) ctx.emit('released', { worker: ctx.ptimer.worker, total: ctx.vars.released });
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
