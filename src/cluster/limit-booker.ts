/**
 * A cluster limit, as one slot's holder keeps it: grid points booked ahead in the store, spent
 * from local memory when their deadline comes (no round trip between a deadline and its release).
 *
 *     now                      now + horizon
 *     |--- admitted: k+1 k+2 k+4 ... --|      refill(): ask the store for the grid points in
 *     | spend(k+1) at its deadline     |      (last asked, now + horizon]; it admits those
 *     |                                |      that keep every N+1 bookings >= W + 2 x guard
 *                                             apart (sliding-log.ts); the rest are lost to this
 *                                             node (throughput), never an extra release.
 *
 * Store calls per second = 1 / refill period, whatever the take rate. The guard is this node's
 * fire error plus its clock offset to the store and that offset's error bound (cluster-clock.ts).
 * Booking is refused, with the reason counted, when the offset is unknown or larger than
 * `max_offset` (a bad clock must not let the limit over-admit) and during the quarantine after
 * a primary change (a lost booking and a new one must not share a window).
 */
import type { ClusterClock, EpochGrid } from './cluster-clock.js';
import type { ClusterStore } from './store.js';

export type BookingRefusal = 'clock-unknown' | 'clock-offset' | 'quarantine' | 'stale' | 'unreachable';

export interface LimitBookerOptions {
  /** The limit's key in the store (the cluster timer's name). */
  limit: string;
  count: number;
  windowNs: number;
  maxOffsetNs: number;
  /** How far ahead to book (default: one window, at least two refills' worth). */
  horizonNs: number;
  /** This node's fire error bound (late wake-ups): part of the guard. */
  fireErrorNs: number;
  node: string;
  store: ClusterStore;
  clock: ClusterClock;
  grid: EpochGrid;
}

export interface BookerCounters {
  asked: number;
  admitted: number;
  spent: number;
  refused: Record<BookingRefusal, number>;
}

export class LimitBooker {
  readonly counters: BookerCounters = {
    asked: 0,
    admitted: 0,
    spent: 0,
    refused: { 'clock-unknown': 0, 'clock-offset': 0, quarantine: 0, stale: 0, unreachable: 0 },
  };
  /** Admitted grid ticks not yet spent, ascending. */
  private readonly ticks: number[] = [];
  private lastAskedTick = -1;
  lastRefusal: { reason: BookingRefusal; detail: string } | null = null;

  constructor(private readonly options: LimitBookerOptions) {}

  /** Books the grid points up to now + horizon for the slot with `token`; returns how many were admitted, or why none were asked. */
  async refill(slot: string, token: number, nowMonoNs: number, quarantined: boolean): Promise<number | BookingRefusal> {
    const { clock, grid, store, node, horizonNs, maxOffsetNs } = this.options;
    const refuse = (reason: BookingRefusal, detail: string): BookingRefusal => {
      this.counters.refused[reason]++;
      this.lastRefusal = { reason, detail };
      return reason;
    };
    const offset = clock.offset();
    if (!clock.known || offset === null) return refuse('clock-unknown', 'no round trip to the store measured yet');
    const worst = Math.abs(offset.offsetNs) + offset.errorNs;
    if (worst > maxOffsetNs) {
      return refuse(
        'clock-offset',
        `clock offset to the store ${(offset.offsetNs / 1e3).toFixed(0)} us (error ${(offset.errorNs / 1e3).toFixed(0)} us) exceeds max_offset ${(maxOffsetNs / 1e3).toFixed(0)} us`,
      );
    }
    if (quarantined) return refuse('quarantine', 'a primary change was seen: no bookings until the quarantine ends');
    const nowServer = clock.toServerNs(nowMonoNs);
    const first = Math.max(this.lastAskedTick + 1, grid.tickAtOrAfter(nowServer + 1));
    const last = grid.tickAtOrAfter(nowServer + horizonNs) - 1;
    if (last < first) return 0;
    const candidatesUs: number[] = [];
    for (let tick = first; tick <= last; tick++) candidatesUs.push(Math.round(grid.deadlineNs(tick) / 1e3));
    const guardUs = Math.ceil((this.options.fireErrorNs + worst) / 1e3);
    let reply;
    try {
      reply = await store.book(node, {
        limit: this.options.limit,
        slot,
        token,
        candidatesUs,
        count: this.options.count,
        windowUs: Math.round(this.options.windowNs / 1e3),
        guardUs,
        notBeforeUs: 0,
      });
    } catch (error) {
      return refuse('unreachable', (error as Error).message);
    }
    this.counters.asked += candidatesUs.length;
    this.lastAskedTick = last;
    if ('stale' in reply) return refuse('stale', `the lease of ${slot} is no longer this node's with token ${token}`);
    for (const us of reply.admittedUs) this.ticks.push(Math.round((us * 1e3 - grid.epochNs) / grid.intervalNs));
    this.counters.admitted += reply.admittedUs.length;
    return reply.admittedUs.length;
  }

  /** At a tick's deadline (local memory only): whether this tick was admitted; it is spent then. Older admitted ticks are dropped. */
  spend(tick: number): boolean {
    while (this.ticks.length > 0 && this.ticks[0]! < tick) this.ticks.shift();
    if (this.ticks[0] !== tick) return false;
    this.ticks.shift();
    this.counters.spent++;
    return true;
  }

  /** Forget every admitted tick (the slot moved): its bookings are lost throughput, never run by two nodes. */
  drop(): void {
    this.ticks.length = 0;
    this.lastAskedTick = -1;
  }
}
