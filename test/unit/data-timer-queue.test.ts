/**
 * TimerQueue, a limited timer's view of a queue, on a virtual clock: take() through the
 * window, and the short wait that keeps a run's share when the window opens microseconds late.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { WindowLimiter } from '../../src/data/window-limiter.js';
import { TimerQueue } from '../../src/data/timer-queue.js';

function setup(waitNs: number) {
  const clock = { now: 10 };
  const sleeps: number[] = [];
  const queue = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 20; i++) queue.push(`c${i}`);
  const limiter = WindowLimiter.create('shaper', { count: 5, windowNs: 1000, text: '5/1000ns' });
  const view = new TimerQueue(
    queue,
    limiter,
    () => clock.now,
    waitNs,
    (ns) => {
      sleeps.push(ns - clock.now);
      clock.now = ns;
    },
  );
  return { clock, sleeps, view, queue };
}

test('without waitNs, a run the window is not yet open for takes fewer', () => {
  const { clock, view, sleeps } = setup(0);
  assert.equal(view.take(5).length, 5);
  clock.now = 1005; // "slot k + 10", 5 ns less late than slot k
  assert.deepEqual(view.take(5), []);
  assert.deepEqual(sleeps, []);
  clock.now = 1010;
  assert.deepEqual(
    view.take(5).map((i) => i.value),
    ['c5', 'c6', 'c7', 'c8', 'c9'],
  );
});

test('with waitNs, take waits for the window when it opens soon enough, and takes the rest', () => {
  const { clock, view, sleeps, queue } = setup(100);
  view.take(2); // at 10
  clock.now = 20;
  view.take(3); // at 20
  clock.now = 1005;
  assert.deepEqual(
    view.take(5).map((i) => i.value),
    ['c5', 'c6', 'c7', 'c8', 'c9'],
    'all 5: 2 free at 1010, 3 more at 1020',
  );
  assert.deepEqual(sleeps, [15], 'one wait, until all 5 fit');
  assert.equal(clock.now, 1020);
  assert.equal(queue.size, 10);
  // Too far off: no wait, fewer items.
  clock.now = 1500;
  assert.deepEqual(view.take(5), []);
  assert.deepEqual(sleeps, [15]);
  // Nothing queued: no wait either.
  queue.clear();
  clock.now = 2019;
  assert.deepEqual(view.take(5), []);
  assert.deepEqual(sleeps, [15]);
});

test('a part the window allows now is taken at once, and the wait is only for the rest', () => {
  const { clock, view, sleeps } = setup(50);
  view.take(3); // 3 at 10
  clock.now = 500;
  view.take(2); // 2 at 500
  clock.now = 1010;
  assert.equal(view.take(5).length, 3, 'the 3 from 10 are free; the 2 from 500 are 490 ns away');
  assert.deepEqual(sleeps, []);
  assert.throws(() => new TimerQueue(null as never, { timer: 't' } as never, () => 0, -1), /waitNs -1 is not valid/);
});

test('waitNs per call: take(n, { waitNs }) on a view that does not wait by default', () => {
  const { clock, view, sleeps } = setup(0);
  view.take(5); // 5 at 10
  clock.now = 1005;
  assert.deepEqual(view.take(5), [], 'the view never waits');
  assert.equal(view.take(5, { waitNs: 10 }).length, 5, 'this call waits 5 ns');
  assert.deepEqual(sleeps, [5]);
  assert.throws(
    () => view.take(1, { waitNs: -1 }),
    /queue "calls"\.take: waitNs -1 is not valid; expected 0 to 1e9 ns/,
  );
  const q = SharedQueue.create({ name: 'q', size: 2, maxBytes: 100, addmode: 0 });
  q.push('a');
  assert.equal(q.take(1, { waitNs: 5 }).length, 1, 'a queue without a limit ignores it');
});

test('when another worker takes the room it waited for, take waits again, within waitNs in all', () => {
  const clock = { now: 0 };
  const queue = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 30; i++) queue.push(`c${i}`);
  const limiter = WindowLimiter.create('shaper', { count: 5, windowNs: 1000, text: '5/1000ns' });
  const sleeps: number[] = [];
  const a = new TimerQueue(
    queue,
    limiter,
    () => clock.now,
    0,
    (ns) => {
      sleeps.push(ns);
      clock.now = ns;
      if (sleeps.length === 1) rival.take(2); // the other worker gets in first
    },
  );
  const rival = new TimerQueue(queue, limiter, () => clock.now);
  a.take(2); // 2 at 0
  clock.now = 10;
  a.take(3); // 3 at 10
  clock.now = 995;
  // a wants 2: 2 free at 1000, but the rival takes them; then 3 more free at 1010.
  assert.equal(a.take(2, { waitNs: 100 }).length, 2);
  assert.deepEqual(sleeps, [1000, 1010]);
  assert.equal(limiter.total, 9);
  // Within the budget only: 1 is free at 1500, the other 4 only at 2010, further than waitNs.
  clock.now = 1500;
  assert.equal(a.take(5, { waitNs: 100 }).length, 1);
  assert.deepEqual(sleeps, [1000, 1010]);
});
