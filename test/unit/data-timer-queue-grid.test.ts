/**
 * A limited timer's takes with `send` on a virtual clock, through a long backlog: the runs are
 * held to their deadline plus the guard (GridGuard) and their grants recorded where their sends
 * returned, so no sliding window of the sends' ends (the latest a receiver can see a datagram)
 * holds more than N, the release lateness of the backlog's last seconds is that of its first
 * seconds, and the few items a chain of full windows cannot carry (window-limiter.ts) go a slot
 * later: at least 97 % of N/W.
 * The runs' lateness and the sends' lengths vary (seeded), with a rare late run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { WindowLimiter } from '../../src/data/window-limiter.js';
import { TimerQueue } from '../../src/data/timer-queue.js';
import { GridGuard, MIN_GUARD_NS, GUARD_MARGIN_NS } from '../../src/data/grid-guard.js';
import type { QueueItem } from '../../src/data/shared-queue.js';

const US = 1_000;
const MS = 1_000_000;

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function maxInWindow(times: number[], windowNs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowNs) i++;
    max = Math.max(max, j - i + 1);
  }
  return max;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)]!;
}

/**
 * `slots` slots of 100 ms under 50/1s; one thread hosts both workers (2 and 3 per slot in
 * turn, as the rate-shaping example's slices give), which run back to back after the thread's
 * wake-up. Returns per-slot counts, the sends' start instants and each run's release lateness.
 */
function simulate(slots: number, seed: number) {
  const rnd = random(seed);
  const clock = { now: 0 };
  const queue = SharedQueue.create({ name: 'calls', size: 10_000, maxBytes: 1_000_000, addmode: 0 });
  for (let i = 0; i < 4000; i++) queue.push(`c${i}`);
  const limiter = WindowLimiter.create('shaper', { count: 50, windowNs: 1000 * MS, text: '50/1s' });
  const run = { deadline: NaN };
  const view = new TimerQueue(
    queue,
    limiter,
    () => clock.now,
    0,
    (ns) => (clock.now = Math.max(clock.now, ns)),
    () => run.deadline,
  );
  const perSlot: number[] = [];
  const sendEnds: number[] = [];
  const lateness: number[] = [];
  const origin = 1000 * MS;
  for (let k = 0; k < slots; k++) {
    const deadline = origin + k * 100 * MS;
    // The thread wakes 30-300 us late, one run in 500 by 2-4 ms (a preemption: it books where it is,
    // and the slot a window later, finding that instant past its pin and guard, comes back short).
    const late = Math.round(rnd() < 0.002 ? 2 * MS + rnd() * 2 * MS : 30 * US + rnd() * 270 * US); // clocks give whole ns
    clock.now = Math.max(clock.now, deadline + late);
    let count = 0;
    for (const worker of [0, 1]) {
      const share = (k + worker) % 2 === 0 ? 2 : 3;
      run.deadline = deadline;
      const send = (items: QueueItem[]) => {
        clock.now += Math.round(60 * US + rnd() * 200 * US); // the send's length
        for (let i = 0; i < items.length; i++) sendEnds.push(clock.now); // the latest its datagrams land
      };
      count += view.take(share, { send }).length;
      lateness.push(clock.now - deadline);
      clock.now += 5 * US; // the route's return and the next worker's call
    }
    perSlot.push(count);
  }
  return { perSlot, sendEnds, lateness, guard: view.guard.ns };
}

test('held to deadline + guard, booked where sends return: <= N per sliding window at the receiver, >= 97 % of N/W, and the lateness of a 60 s backlog stays that of its first 5 s', () => {
  for (const seed of [1, 2, 3]) {
    const { perSlot, sendEnds, lateness, guard } = simulate(600, seed);
    const released = perSlot.reduce((a, b) => a + b, 0);
    assert.ok(
      released >= 0.97 * 600 * 5,
      `seed ${seed}: ${released} released in 60 s; expected >= 97 % of 3000 (slots: ${perSlot.join('')})`,
    );
    assert.ok(
      maxInWindow(sendEnds, 1000 * MS) <= 50,
      `seed ${seed}: a sliding second held ${maxInWindow(sendEnds, 1000 * MS)} sends`,
    );
    const first = p99(lateness.slice(0, 100)); // slots 0-49: the first 5 s
    const last = p99(lateness.slice(-100)); // slots 550-599: after 55 s
    assert.ok(
      last <= 1.5 * first,
      `seed ${seed}: release lateness p99 ${(last / US).toFixed(0)} us after 55 s against ${(first / US).toFixed(0)} us in the first 5 s`,
    );
    assert.ok(
      guard >= MIN_GUARD_NS && guard < 1 * MS,
      `seed ${seed}: the guard follows the runs' p99 lateness (${guard} ns)`,
    );
  }
});

test('a run later than its guard books where it is; the run a window after it waits for that instant, within two guards more', () => {
  const clock = { now: 0 };
  const queue = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 40; i++) queue.push(`c${i}`);
  const limiter = WindowLimiter.create('shaper', { count: 5, windowNs: 1000, text: '5/1000ns' });
  const run = { deadline: NaN };
  const sleeps: number[] = [];
  const guard = new GridGuard();
  const view = new TimerQueue(
    queue,
    limiter,
    () => clock.now,
    0,
    (ns) => {
      sleeps.push(ns);
      clock.now = Math.max(clock.now, ns);
    },
    () => run.deadline,
    guard,
  );
  const G = MIN_GUARD_NS; // the guard with no late samples: the least
  const W = 1000;
  const take = (deadline: number, at: number, n: number) => {
    run.deadline = deadline;
    clock.now = at;
    const sent: number[] = [];
    const got = view.take(n, { send: (items) => items.forEach(() => sent.push(clock.now)) }).length;
    return { got, sent };
  };
  // On time: held to deadline + G, booked there.
  assert.deepEqual(take(0, 10, 5), { got: 5, sent: [G, G, G, G, G] });
  assert.deepEqual(limiter.grants(), [[G, 5]]);
  // A window later, a little earlier in its own lateness: the window opens exactly at its pin.
  assert.equal(take(W, W + 5, 5).got, 5);
  assert.deepEqual(limiter.grants(), [[W + G, 5]], 'booked at its pin, W after the last: no drift');
  // Later than its guard by 50 us: it books where it is.
  const lateBy = guard.ns + 50_000;
  assert.equal(take(2 * W, 2 * W + lateBy, 5).got, 5);
  const booked = limiter.grants()[0]![0];
  assert.ok(booked >= 2 * W + lateBy, 'a late run books at its take');
  // The run a window after it waits for that instant (50 us past its pin, within two guards), and books there.
  sleeps.length = 0;
  assert.equal(take(3 * W, 3 * W + 10, 5).got, 5);
  assert.deepEqual(sleeps, [3 * W + guard.ns, booked + W]);
  // An empty queue: no hold at all.
  queue.clear();
  sleeps.length = 0;
  assert.deepEqual(take(4 * W, 4 * W, 5), { got: 0, sent: [] });
  assert.deepEqual(sleeps, []);
  assert.ok(GUARD_MARGIN_NS > 0);
});

test('GridGuard: the p99 of the recent runs plus the margin, within its bounds', () => {
  const g = new GridGuard();
  assert.equal(g.ns, MIN_GUARD_NS, 'no runs yet: the least guard');
  for (let i = 0; i < 99; i++) g.observe(500_000);
  g.observe(9_000_000);
  assert.equal(g.ns, 500_000 + GUARD_MARGIN_NS, 'one run in a hundred later: the p99 is the others');
  for (let i = 0; i < 10; i++) g.observe(2_000_000);
  assert.equal(g.ns, 2_000_000 + GUARD_MARGIN_NS, 'more than one in a hundred: the guard follows them');
  g.observe(-5);
  g.observe(Number.NaN);
  assert.ok(Number.isFinite(g.ns));
  for (let i = 0; i < 300; i++) g.observe(50_000_000);
  assert.equal(g.ns, 20_000_000, 'bounded');
});
