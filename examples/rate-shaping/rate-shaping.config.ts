/**
 * Call-rate shaping (the reference's example 7.1): INVITEs wait in the queue `calls` and a
 * synced slice timer releases 50 per second, 5 every 100 ms, never more than 50 in any second.
 *
 *   sipp UAC --> front (host, forwarder.ts) --> queue 'calls' --> shaper[0], shaper[1] --> upstream
 *
 * - The front queues each initial INVITE under its Call-ID (addmode 1: a retransmission of a
 *   queued INVITE changes nothing) and answers 100 Trying; a CANCEL of a call still queued is
 *   answered there (200, and 487 for the INVITE).
 * - `shaper` is a synced slice timer: interval 100ms, nslices 10, 2 workers 5 slices apart. Each
 *   worker's `ntasks` of 25 gives slices of 2 and 3 in turn (floor((i+1)*25/10) - floor(i*25/10)),
 *   and the workers, 5 slices apart, are always on opposite ones: 5 per 100 ms between them, 50
 *   per second. (`ntasks=50` would give each worker 5 per run: 100 per second.)
 * - `limit=50/1s` is the guarantee: whatever the lateness of each run, the upstream never gets
 *   more than 50 INVITEs in any sliding second. Each take sends its calls under the window's
 *   lock (`take(n, { send })`), and the window counts them from where the send returned, the
 *   latest the upstream's socket can see them: at most 50 in every sliding second there too (the
 *   test times each INVITE by the kernel's receive timestamp at the UAS).
 * - Such a take in a loop run is held to the run's deadline plus a guard band (the timer's
 *   recent p99 lateness plus a margin), so the releases stay on the grid and their lateness
 *   does not grow with a backlog; slot k + 10 waits for slot k's grants (a send's length) at most
 *   two guards, else takes what the window allows and the rest waits for a later slot: a few
 *   calls in a hundred go a slot later (the trade-off and its timeline:
 *   docs/limits-at-the-receiver.md).
 * - Each worker sends from a socket of its own (a whole forwarder, so the answers the upstream
 *   sends back to that socket are relayed on their Vias), opened in start and closed in end.
 * - Every run that released calls emits `released` { worker, tick, deadline, at, count, keys, sends }: the
 *   host measures per-slot counts and release lateness (when the first send began - deadline).
 *
 * `ctx.data` (from main.ts / scenario.ts): `{ front: Address, upstream: Address }`.
 */
import { defineConfig, type QueueItem, type RouteContext } from 'ptimer';
import { Forwarder } from '../sip/forwarder.js';
import type { Address } from '../sip/forwarder-core.js';

export interface RateShapingData {
  /** The front forwarder's address: every forwarder's Via names it. */
  front: Address;
  /** Where the released INVITEs go. */
  upstream: Address;
}

export interface Released {
  worker: number;
  tick: number;
  /** The run's deadline, and when its take (which sent the calls) returned (ns, process.hrtime's scale). */
  deadline: number;
  at: number;
  count: number;
  /** The Call-IDs released. */
  keys: string[];
  /** Each send of the run (a take that waited for the window sends twice): when it began, how many, and when it returned. */
  sends?: Array<[number, number, number?]>;
  /** The queue's size right after this run's take: > 0 while the backlog lasts. */
  left?: number;
}

type Ctx = RouteContext<{ out?: Forwarder }, RateShapingData>;

export default defineConfig({
  queue: ['name=calls;size=10000;addmode=1'],
  timer: ['name=shaper;type=3;interval=100ms;nworkers=2;ntasks=25;nslices=10;limit=50/1s'],
  start: ['timer=shaper;route=SHAPER_START'],
  loop: ['timer=shaper;route=RELEASE'],
  end: ['timer=shaper;route=SHAPER_END'],
});

export async function SHAPER_START(ctx: Ctx) {
  ctx.ptimer.slice = ctx.ptimer.worker * 5;
  await ctx.vars.out?.close();
  ctx.vars.out = await Forwarder.start({
    listen: { address: ctx.data.front.address, port: 0 },
    upstream: ctx.data.upstream,
    queue: ctx.queue('calls'),
    via: ctx.data.front,
    onError: (e) => ctx.log.warn({ err: e }, 'a datagram could not be handled'),
  });
}

/**
 * This run's share: the tasks of the slice its tick falls on, `(tick + worker * 5) % nslices`.
 * The same as `ctx.ptimer.tasks` while the worker's slice keeps pace with the grid; but a worker
 * advances its slice once per run, so one whose first run came a tick later than the other's
 * (its start route took longer), or that dropped a tick, would drift off its 5-slice offset.
 */
function shareOfTick(ctx: Ctx): number {
  const { ntasks, nslices, worker } = ctx.ptimer;
  const slice = (ctx.tick + worker * 5) % nslices;
  return Math.floor(((slice + 1) * ntasks) / nslices) - Math.floor((slice * ntasks) / nslices);
}

export function RELEASE(ctx: Ctx) {
  const out = ctx.vars.out;
  if (!out) return;
  const queue = ctx.queue('calls');
  const want = shareOfTick(ctx);
  // Sent under the window's lock, held to the run's deadline plus the guard (TakeOptions.send).
  const sends: Array<[number, number, number?]> = [];
  const send = (items: QueueItem[]) => {
    const began = Number(process.hrtime.bigint());
    const n = out.release(items);
    sends.push([began, n, Number(process.hrtime.bigint())]);
  };
  const calls = queue.take(want, { send });
  const left = queue.size;
  if (calls.length === 0) return;
  const released: Released = {
    worker: ctx.ptimer.worker,
    tick: ctx.tick,
    deadline: ctx.deadline,
    at: Number(process.hrtime.bigint()),
    count: calls.length,
    keys: calls.map((c) => c.key ?? ''),
    sends,
    left,
  };
  ctx.emit('released', released);
}

export async function SHAPER_END(ctx: Ctx) {
  await ctx.vars.out?.close();
  ctx.vars.out = undefined;
}
