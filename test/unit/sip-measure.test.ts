/**
 * The rate-shaping example's figures (examples/rate-shaping/measure.ts): the most in any
 * sliding window (checked against brute force), counts per slot, percentiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { busiestWindow, maxInWindow, perSlot, percentile, windowSlack } from '../../examples/rate-shaping/measure.js';
import { rateShapingFigures } from '../../examples/rate-shaping/figures.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

test('the most in any sliding window: slot k and slot k + 10 one microsecond early make 55 in a second', () => {
  const S = 1e9;
  // 5 per 100 ms slot for 2 s, each slot's 5 at its start plus a lateness; slot 10 runs 1 us "earlier".
  const times: number[] = [];
  for (let k = 0; k < 20; k++) for (let i = 0; i < 5; i++) times.push(k * 0.1 * S + (k === 10 ? 50_000 : 50_001));
  assert.equal(maxInWindow(times, S), 55);
  assert.deepEqual(busiestWindow(times, S), { start: 50_001, count: 55 });
  assert.equal(maxInWindow([0, S, 2 * S], S), 1, 'half-open: exactly W apart is two windows');
  assert.equal(maxInWindow([], S), 0);
  assert.throws(() => maxInWindow([1], 0), /the window must be > 0 ns/);
});

test('model check: maxInWindow is the brute-force maximum over windows starting at each time', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 300 }),
      (times, w) => {
        const brute = Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + w).length));
        assert.equal(maxInWindow(times, w), brute);
      },
    ),
    { numRuns: fuzzRuns(2000) },
  );
});

test('window slack: the least spacing of a time and the N-th after it, minus the window; >= 0 exactly when no window holds more than N', () => {
  const S = 1e9;
  const times: number[] = [];
  for (let k = 0; k < 20; k++) for (let i = 0; i < 5; i++) times.push(k * 0.1 * S + (k === 10 ? 50_000 : 50_001));
  assert.equal(windowSlack(times, 50, S), -1, 'slot 10 one nanosecond early: 1 ns short');
  assert.equal(windowSlack([0, S, 2 * S], 1, S), 0);
  assert.equal(windowSlack([0, 1], 5, S), Infinity, 'fewer than N + 1 times: no window can hold more');
  assert.throws(() => windowSlack([1], 0, S), /the count must be an integer >= 1/);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 8 }),
      (ts, w, n) => {
        assert.equal(windowSlack(ts, n, w) >= 0, maxInWindow(ts, w) <= n);
      },
    ),
    { numRuns: fuzzRuns(2000) },
  );
});

test('counts per slot from an origin, and percentiles by nearest rank', () => {
  assert.deepEqual(perSlot([100, 150, 199, 200, 450], 100, 100), [3, 1, 0, 1]);
  assert.deepEqual(perSlot([], 0, 10), []);
  assert.throws(() => perSlot([5], 10, 10), /the time 5 is before the origin 10/);
  assert.throws(() => perSlot([1e12], 0, 1), /more than 10,000,000 slots/);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(values, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 101), /p must be 0 to 100/);
});

test('the rate-shaping figures from released runs and UAS arrivals', () => {
  const ms = 1e6;
  const base = 1_000_000 * ms;
  // Ticks 10..13 on a 100 ms grid from `base`; two workers per tick; the queue empties after tick 12.
  const released = [
    { worker: 0, tick: 10, deadline: base, at: base + 0.3 * ms, count: 2, keys: ['c0', 'c1'] },
    { worker: 1, tick: 10, deadline: base, at: base + 0.5 * ms, count: 3, keys: ['c2', 'c3', 'c4'] },
    { worker: 0, tick: 11, deadline: base + 100 * ms, at: base + 101 * ms, count: 3, keys: ['d1', 'd2', 'd3'] },
    { worker: 1, tick: 11, deadline: base + 100 * ms, at: base + 100.4 * ms, count: 1, keys: ['d0'] },
    { worker: 0, tick: 13, deadline: base + 300 * ms, at: base + 300.2 * ms, count: 1, keys: ['e0'] },
  ];
  const queueAfter = new Map([
    [10, 7],
    [11, 3],
    [13, 0],
  ]);
  const at = (t: number) => base + t * ms;
  const invites = [
    ...[0.4, 0.4, 0.6, 0.6, 0.6].map((t, i) => ({ callId: `c${i}`, at: at(t) })),
    ...[100.5, 101.1, 101.1, 101.1].map((t, i) => ({ callId: `d${i}`, at: at(t) })),
    { callId: 'e0', at: at(300.3) },
    { callId: 'c0', at: at(350) }, // a duplicate
  ];
  const f = rateShapingFigures({
    released,
    queueAfter,
    invites,
    slotNs: 100 * ms,
    windowNs: 1000 * ms,
    full: 5,
    limitCount: 50,
  });
  assert.equal(f.invitesAtUas, 11);
  assert.deepEqual(f.duplicates, ['c0']);
  assert.equal(f.maxPerWindow, 11);
  assert.deepEqual(f.perSlotReleased, [5, 4, 0, 1]);
  assert.deepEqual(f.perSlotAtUas, [5, 4, 0, 2]);
  assert.deepEqual(
    [f.backlogSlots, f.backlogSlotsFull],
    [3, 1],
    'ticks 10 and 11 left calls queued, tick 12 released none of them, tick 13 emptied the queue',
  );
  // A slot that released nothing while calls waited (the window left it empty) is a backlog slot carrying 0.
  const later = rateShapingFigures({
    released,
    queueAfter: new Map([
      [10, 7],
      [11, 3],
      [13, 1],
    ]),
    invites,
    slotNs: 100 * ms,
    windowNs: 1000 * ms,
    full: 5,
    limitCount: 50,
  });
  assert.deepEqual(
    [later.backlogSlots, later.backlogSlotsFull],
    [4, 1],
    'tick 12 released none while 3 waited, tick 13 left one: both in the backlog',
  );
  assert.equal(later.backlogThroughput, 25, '(5 + 4 + 0 + 1) calls in 4 slots');
  const cleared = rateShapingFigures({
    released,
    queueAfter: new Map([
      [10, 7],
      [11, 0],
      [13, 1],
    ]),
    invites,
    slotNs: 100 * ms,
    windowNs: 1000 * ms,
    full: 5,
    limitCount: 50,
  });
  assert.deepEqual(
    [cleared.backlogSlots, cleared.backlogSlotsFull],
    [1, 1],
    'tick 11 emptied the queue: the backlog was tick 10 alone',
  );
  assert.equal(f.backlogThroughput, 30, '9 calls in 3 slots');
  assert.deepEqual(f.latenessUs, { p50: 400, p99: 1000, max: 1000 });
  assert.equal(f.maxPerWindowAtRelease, 10);
  // c0 sent at 0.3, seen at 0.4 and again at 350 (the duplicate); d1-d3 sent at 101, seen at 101.1.
  assert.deepEqual({ min: f.transitUs.min, max: f.transitUs.max }, { min: 100, max: 349_700 });
  assert.ok(Number.isNaN(f.sendUs.p99), 'no send lengths recorded');
  assert.ok(Number.isNaN(f.backlogLatenessUs.firstP99), 'a backlog under 10 s has no first and last 5 s');
  // Send lengths, and the backlog's lateness at both ends: 120 slots backlogged, the last 50 later by 1 ms.
  const long = Array.from({ length: 120 }, (_, k) => ({
    worker: 0,
    tick: k,
    deadline: base + k * 100 * ms,
    at: 0,
    count: 5,
    keys: [],
    sends: [
      [base + k * 100 * ms + (k >= 70 ? 1.2 : 0.2) * ms, 5, base + k * 100 * ms + (k >= 70 ? 1.3 : 0.25) * ms] as [
        number,
        number,
        number,
      ],
    ],
  }));
  const lf = rateShapingFigures({
    released: long,
    queueAfter: new Map(long.map((r) => [r.tick, 1])),
    invites: [],
    slotNs: 100 * ms,
    windowNs: 1000 * ms,
    full: 5,
    limitCount: 50,
  });
  assert.equal(lf.backlogSlots, 120);
  assert.deepEqual([Math.round(lf.backlogLatenessUs.firstP99), Math.round(lf.backlogLatenessUs.lastP99)], [200, 1200]);
  assert.deepEqual([Math.round(lf.sendUs.p50), Math.round(lf.sendUs.p99)], [50, 100]);
  const none = rateShapingFigures({
    released: [],
    queueAfter: new Map(),
    invites: [],
    slotNs: 100 * ms,
    windowNs: 1000 * ms,
    full: 5,
    limitCount: 50,
  });
  assert.deepEqual([none.invitesAtUas, none.perSlotAtUas, none.backlogSlots, none.maxPerWindow], [0, [], 0, 0]);
});

test('a run that sent twice (it waited for the window): each call timed by its own send', () => {
  const ms = 1e6;
  const released = [
    {
      worker: 0,
      tick: 0,
      deadline: 0,
      at: 9 * ms,
      count: 3,
      keys: ['a', 'b', 'c'],
      sends: [
        [1 * ms, 1],
        [8 * ms, 2],
      ] as Array<[number, number]>,
    },
  ];
  const invites = [
    { callId: 'a', at: 1.2 * ms },
    { callId: 'b', at: 8.1 * ms },
    { callId: 'c', at: 8.3 * ms },
  ];
  const f = rateShapingFigures({
    released,
    queueAfter: new Map(),
    invites,
    slotNs: 100 * ms,
    windowNs: 5 * ms,
    full: 5,
    limitCount: 5,
  });
  assert.deepEqual({ min: Math.round(f.transitUs.min), max: Math.round(f.transitUs.max) }, { min: 100, max: 300 });
  assert.equal(f.maxPerWindowAtRelease, 2, 'by send time: 1 at 1 ms, 2 at 8 ms, never 3 in 5 ms');
});
