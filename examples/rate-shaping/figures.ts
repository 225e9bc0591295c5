/**
 * The rate-shaping run's figures, from what was recorded: the shaper's `released` messages
 * (tick, deadline, send time, count; and the queue's size seen after each) and the INVITEs the
 * UAS received (Call-ID, the kernel's receive time and the relay's read time, on process.hrtime's
 * scale). Pure, so it is tested on its own.
 */
import { busiestWindow, maxInWindow, percentile, perSlot, windowSlack } from './measure.js';
import type { Released } from './rate-shaping.config.js';

export interface Figures {
  /** INVITEs the UAS got, and the Call-IDs that came more than once. */
  invitesAtUas: number;
  duplicates: string[];
  /** The most INVITEs at the UAS in any sliding window, and where (ms after the first). */
  maxPerWindow: number;
  /** The same by when the relay at the UAS read them (its own scheduling delays added): reported, not judged. */
  maxPerWindowRead: number;
  busiest: { startMsAfterFirst: number; count: number };
  /** The most released in any sliding window, by the time each send returned (where the limit holds). */
  maxPerWindowAtRelease: number;
  /**
   * The least spacing of an INVITE and the `limitCount`-th after it, minus the window (us), at the
   * UAS and where the calls left: >= 0 when no window held more than the limit; how much margin the
   * limit's window had to spare (or lacked) there.
   */
  slackUs: { atUas: number; atRelease: number; readAtUas: number };
  /** When each call was sent (its send's return, ns), one entry per call: the chart's "out" series. */
  releasesNs: number[];
  /** INVITEs at the UAS per slot of the grid, from the first released slot's deadline. */
  perSlotAtUas: number[];
  /** Calls released per slot (tick), from the first released tick. */
  perSlotReleased: number[];
  /**
   * Slots while the backlog lasted, how many carried `full`: the slots from the first one on, each
   * the next tick after the one before, that left calls queued. A call left behind later (a
   * moment when more arrived in a slot than it releases) starts no backlog of its own.
   */
  backlogSlots: number;
  backlogSlotsFull: number;
  /** Calls per second released while the backlog lasted. */
  backlogThroughput: number;
  /** Release lateness against the slot's deadline (when the run's first send began - deadline), microseconds. */
  latenessUs: { p50: number; p99: number; max: number };
  /**
   * Whether the release lateness grows with the backlog: its p99 over the runs of the backlog's
   * first 5 s (50 slots) and of its last 5 s, microseconds (NaN when the backlog was shorter than 10 s).
   */
  backlogLatenessUs: { firstP99: number; lastP99: number; seconds: number };
  /** How long the runs' sends took (began to returned), microseconds: a window at the UAS may exceed the limit by no more than about their p99. */
  sendUs: { p50: number; p99: number; max: number };
  /** From when the run's send began to the call's arrival at the UAS, microseconds (never negative where the limit holds). */
  transitUs: { p50: number; p99: number; min: number; max: number };
}

export function rateShapingFigures(input: {
  released: readonly Released[];
  /** Tick -> the queue's size right after that run's message arrived. */
  queueAfter: ReadonlyMap<number, number>;
  /** `at`: when it reached the UAS's side (the kernel's receive time); `readAt`: when the relay there read it. */
  invites: ReadonlyArray<{ callId: string; at: number; readAt?: number }>;
  slotNs: number;
  windowNs: number;
  /** What a full slot carries. */
  full: number;
  /** The N of the limit N/windowNs, for the slack. */
  limitCount: number;
}): Figures {
  const { released, queueAfter, slotNs, windowNs } = input;
  const arrivals = input.invites.map((i) => i.at).sort((a, b) => a - b);
  const seen = new Map<string, number>();
  for (const i of input.invites) seen.set(i.callId, (seen.get(i.callId) ?? 0) + 1);
  const first = released.length > 0 ? released.reduce((a, b) => (a.tick <= b.tick ? a : b)) : undefined;
  const origin = first?.deadline;
  const byTick = new Map<number, number>();
  for (const r of released) byTick.set(r.tick, (byTick.get(r.tick) ?? 0) + r.count);
  const ticks = [...byTick.keys()].sort((a, b) => a - b);
  const perSlotReleased =
    ticks.length > 0
      ? Array.from({ length: ticks.at(-1)! - ticks[0]! + 1 }, (_, i) => byTick.get(ticks[0]! + i) ?? 0)
      : [];
  // The backlog: from the first released tick on, each tick that left calls queued; a tick that
  // released nothing (no message) keeps the queue the tick before it left, so a slot the window
  // left empty while calls waited is a backlog slot carrying 0.
  let backlogLength = 0;
  for (let tick = ticks[0] ?? 0, last = ticks.at(-1) ?? -1; tick <= last; tick++, backlogLength++) {
    if (byTick.has(tick) && (queueAfter.get(tick) ?? 0) === 0) break;
  }
  const backlog = perSlotReleased.slice(0, backlogLength);
  const releasedAt = (r: Released) => r.sends?.[0]?.[0] ?? r.at;
  const lateness = released.map((r) => (releasedAt(r) - r.deadline) / 1000);
  const backlogTick0 = ticks[0] ?? 0;
  const latenessOfTicks = (from: number, to: number) =>
    percentile(
      released.filter((r) => r.tick >= from && r.tick < to).map((r) => (releasedAt(r) - r.deadline) / 1000),
      99,
    );
  const slotsIn5s = Math.round(5e9 / slotNs);
  const longEnough = backlogLength >= 2 * slotsIn5s;
  const sentAt = new Map<string, number>();
  for (const r of released) {
    // The keys in take order; each send took the next `count` of them.
    let i = 0;
    for (const [t, k] of r.sends ?? [[r.at, r.count]])
      for (const key of (r.keys ?? []).slice(i, (i += k))) sentAt.set(key, t);
  }
  const sendLengths = released.flatMap((r) =>
    (r.sends ?? []).filter((x) => x[2] !== undefined).map((x) => (x[2]! - x[0]) / 1000),
  );
  const transit = input.invites.filter((i) => sentAt.has(i.callId)).map((i) => (i.at - sentAt.get(i.callId)!) / 1000);
  const busiest = busiestWindow(arrivals, windowNs);
  const reads = input.invites.map((i) => i.readAt ?? i.at);
  const releaseTimes = released.flatMap((r) =>
    (r.sends ?? [[r.at, r.count]]).flatMap(([t, k]) => Array<number>(k).fill(t)),
  );
  return {
    invitesAtUas: arrivals.length,
    duplicates: [...seen].filter(([, n]) => n > 1).map(([id]) => id),
    maxPerWindow: maxInWindow(arrivals, windowNs),
    maxPerWindowRead: maxInWindow(reads, windowNs),
    busiest: {
      startMsAfterFirst: arrivals.length > 0 ? (busiest.start - arrivals[0]!) / 1e6 : 0,
      count: busiest.count,
    },
    maxPerWindowAtRelease: maxInWindow(releaseTimes, windowNs),
    releasesNs: releaseTimes,
    slackUs: {
      atUas: windowSlack(arrivals, input.limitCount, windowNs) / 1000,
      atRelease: windowSlack(releaseTimes, input.limitCount, windowNs) / 1000,
      readAtUas: windowSlack(reads, input.limitCount, windowNs) / 1000,
    },
    perSlotAtUas:
      origin === undefined
        ? []
        : perSlot(
            arrivals.filter((t) => t >= origin),
            origin,
            slotNs,
          ),
    perSlotReleased,
    backlogSlots: backlog.length,
    backlogSlotsFull: backlog.filter((n) => n === input.full).length,
    backlogThroughput:
      backlog.length === 0 ? 0 : (backlog.reduce((s, n) => s + n, 0) / backlog.length) * (1e9 / slotNs),
    latenessUs: {
      p50: percentile(lateness, 50),
      p99: percentile(lateness, 99),
      max: lateness.length === 0 ? NaN : Math.max(...lateness),
    },
    backlogLatenessUs: {
      firstP99: longEnough ? latenessOfTicks(backlogTick0, backlogTick0 + slotsIn5s) : NaN,
      lastP99: longEnough
        ? latenessOfTicks(backlogTick0 + backlogLength - slotsIn5s, backlogTick0 + backlogLength)
        : NaN,
      seconds: (backlogLength * slotNs) / 1e9,
    },
    sendUs: {
      p50: percentile(sendLengths, 50),
      p99: percentile(sendLengths, 99),
      max: sendLengths.length === 0 ? NaN : Math.max(...sendLengths),
    },
    transitUs: {
      p50: percentile(transit, 50),
      p99: percentile(transit, 99),
      min: transit.length === 0 ? NaN : Math.min(...transit),
      max: transit.length === 0 ? NaN : Math.max(...transit),
    },
  };
}
