/**
 * Queue control (the reference's example 7.4): two timers drain one queue of calls to two
 * destinations, normal hours and a holiday IVR; an operator switches between them at run time,
 *
 *   ptimer rpc ptimer.pause normal_timer
 *   ptimer rpc ptimer.continue holiday_timer
 *
 * without a restart, and without losing or doubling a call: a call is taken off the shared queue
 * by exactly one of them, and a paused timer takes nothing.
 *
 * - `holiday_timer` starts paused (`paused=1`): it comes up before its start route, and the
 *   `continue` runs its start route, then its loop.
 * - Each timer's start route opens the worker's own UDP socket (a whole SIP forwarder, see
 *   ../sip/forwarder.ts) towards its destination, kept in `ctx.vars`; the end route closes it.
 *   A paused worker keeps its socket, so the calls it already sent go on being relayed.
 * - `HANDLE_QUEUE` (the loop of both) takes up to `ntasks` INVITEs (10 per 100 ms: 100 calls per
 *   second per timer), writes in the `call_routes` table which timer took each call (Call-ID ->
 *   timer name; the front reads it to send the call's ACK, BYE and CANCEL to the same
 *   destination), and sends them.
 *
 * `ctx.data` (from main.ts / the test): `{ front: Address, upstreams: { normal_timer: Address, holiday_timer: Address } }`.
 */
import { defineConfig, type RouteContext } from 'ptimer';
import { Forwarder } from '../sip/forwarder.js';
import type { Address } from '../sip/forwarder-core.js';

export interface QueueControlData {
  /** The front forwarder's address: every forwarder's Via names it. */
  front: Address;
  /** Each timer's destination. */
  upstreams: Record<string, Address>;
}

type Ctx = RouteContext<{ out?: Forwarder; sent?: number }, QueueControlData>;

export default defineConfig({
  // addmode 1: a retransmitted INVITE of a call still queued changes nothing.
  queue: ['name=calls;size=10000;addmode=1'],
  // 2^8 * 64 = 16,384 calls remembered; each for 2 minutes after its INVITE was sent.
  table: ['call_routes=>size=8;autoexpire=120'],
  timer: [
    'name=normal_timer;type=1;interval=100ms;ntasks=10',
    'name=holiday_timer;type=1;interval=100ms;ntasks=10;paused=1',
  ],
  start: ['timer=normal_timer;route=NORMAL_QUEUE_START', 'timer=holiday_timer;route=HOLIDAY_QUEUE_START'],
  loop: ['timer=normal_timer;route=HANDLE_QUEUE', 'timer=holiday_timer;route=HANDLE_QUEUE'],
  end: ['timer=normal_timer;route=QUEUE_END', 'timer=holiday_timer;route=QUEUE_END'],
});

async function openSocket(ctx: Ctx): Promise<void> {
  const upstream = ctx.data.upstreams[ctx.ptimer.name];
  if (!upstream)
    throw new Error(
      `ctx.data.upstreams has no destination for timer ${ctx.ptimer.name}; it has: ${Object.keys(ctx.data.upstreams).join(', ')}`,
    );
  await ctx.vars.out?.close();
  ctx.vars.out = await Forwarder.start({
    listen: { address: '127.0.0.1', port: 0 },
    upstream,
    queue: ctx.queue('calls'),
    via: ctx.data.front,
    onError: (e) => ctx.log.warn({ err: e }, 'a datagram could not be handled'),
  });
  ctx.vars.sent = 0;
  ctx.log.info({ upstream, socket: ctx.vars.out.address }, 'sending calls');
}

export async function NORMAL_QUEUE_START(ctx: Ctx) {
  await openSocket(ctx);
}

export async function HOLIDAY_QUEUE_START(ctx: Ctx) {
  await openSocket(ctx);
}

export function HANDLE_QUEUE(ctx: Ctx) {
  const out = ctx.vars.out;
  if (!out) return;
  const calls = ctx.queue('calls').take(ctx.ptimer.tasks);
  if (calls.length === 0) return;
  const routes = ctx.table('call_routes');
  for (const { key } of calls) if (key !== undefined) routes.set(key, ctx.ptimer.name);
  ctx.vars.sent = (ctx.vars.sent ?? 0) + out.release(calls);
}

export async function QUEUE_END(ctx: Ctx) {
  await ctx.vars.out?.close();
  ctx.vars.out = undefined;
}
