/**
 * WindowLimiter and limitedTake on a virtual clock: at most N grants in any sliding window W,
 * as many as that allows (checked against a brute-force model), times that never go back, and
 * limitedTake recording exactly the items it took. The threaded test is in
 * test/e2e/data-threads.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BOOK_AT_TOLERANCE_NS, WindowLimiter, limitedTake } from '../../src/data/window-limiter.js';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

const limiter = (count: number, windowNs: number) =>
  WindowLimiter.create('shaper', { count, windowNs, text: `${count}/${windowNs}ns` });

/** True if no half-open window [t, t + w) holds more than n of the (sorted) times. */
function windowHolds(times: number[], n: number, w: number): boolean {
  for (let i = 0; i + n < times.length; i++) if (times[i + n]! - times[i]! < w) return false;
  return true;
}

test('grants at most N in any window, and grants again as the window slides', () => {
  const l = limiter(5, 1000);
  assert.equal(l.acquire(2, 0), 2);
  assert.equal(l.acquire(7, 500), 3, 'only 3 left in the window');
  assert.equal(l.acquire(1, 999), 0);
  assert.equal(l.available(999), 0);
  assert.equal(l.availableAt(1), 1000);
  assert.equal(l.availableAt(3), 1500);
  assert.equal(limiter(5, 1000).availableAt(5), -Infinity, 'at once');
  assert.equal(l.acquire(5, 1000), 2, 'the two granted at 0 are W old at 1000');
  assert.equal(l.acquire(5, 1499), 0);
  assert.equal(l.available(1500), 3);
  assert.equal(l.acquire(10, 1500), 3);
  assert.equal(l.acquire(0, 5000), 0);
  assert.equal(l.total, 10);
  assert.deepEqual(l.grants(), [
    [1000, 2],
    [1500, 3],
  ]);
  assert.ok(windowHolds([0, 0, 500, 500, 500, 1000, 1000, 1500, 1500, 1500], 5, 1000));
});

test('a time earlier than one already used is taken as that time: time never goes back', () => {
  const l = limiter(2, 100);
  assert.equal(l.acquire(1, 50), 1);
  assert.equal(l.acquire(1, 40), 1, 'another thread read its clock earlier');
  assert.equal(l.lastGrantAt, 50);
  assert.equal(l.acquire(1, 149), 0, 'both grants count from 50');
  assert.equal(l.acquire(2, 150), 2);
  assert.deepEqual(l.grants(), [[150, 2]]);
  // A check alone moves time on too: what it dropped stays dropped.
  const m = limiter(1, 100);
  m.acquire(1, 0);
  assert.equal(m.available(100), 1);
  assert.equal(m.acquire(1, 60), 1, 'granted at 100, not at 60 (which would put two in [0, 100))');
  assert.equal(m.lastGrantAt, 100);
});

test('a clock function is read under the lock', () => {
  const l = limiter(3, 10);
  let reads = 0;
  assert.equal(
    l.acquire(3, () => (reads++, 7)),
    3,
  );
  assert.equal(l.lastGrantAt, 7);
  assert.equal(reads, 1);
});

test('model check: each acquire grants exactly min(want, N - grants in (t - W, t])', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10 })), { maxLength: 100 }),
      (n, w, steps) => {
        const l = limiter(n, w);
        const times: number[] = [];
        let t = 1_000;
        for (const [dt, want] of steps) {
          t += dt;
          const inWindow = times.filter((g) => g > t - w).length;
          const expected = Math.min(want, n - inWindow);
          assert.equal(l.acquire(want, t), expected);
          for (let i = 0; i < expected; i++) times.push(t);
        }
        assert.ok(windowHolds(times, n, w));
        assert.equal(l.total, times.length);
        const inRing = l.grants().flatMap(([at, k]) => Array<number>(k).fill(at));
        assert.deepEqual(inRing, times.slice(times.length - inRing.length), 'the ring holds the latest grants');
        assert.ok(inRing.length >= times.filter((g) => g > t - w).length, 'and every grant still in the window');
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});

test('model check: with its ring full the limiter still never grants more than N per window, and never more than the model', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 40 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 5, max: 60 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), { maxLength: 150 }),
      (n, entries, w, steps) => {
        const l = WindowLimiter.create('shaper', { count: n, windowNs: w, text: 'x' }, entries);
        const times: number[] = [];
        let t = 0;
        let granted = 0;
        for (const [dt, want] of steps) {
          t += dt;
          const k = l.acquire(want, t);
          assert.ok(
            k <= Math.min(want, n - times.filter((g) => g > t - w).length),
            'never more than the exact window allows',
          );
          for (let i = 0; i < k; i++) times.push(t);
          granted += k;
          assert.ok(l.grants().length <= entries);
        }
        assert.ok(windowHolds(times, n, w));
        assert.equal(l.total, granted);
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});

test('N up to 1e9 costs no more memory than the ring of 8192 entries', () => {
  const l = WindowLimiter.create('big', { count: 1e9, windowNs: 1e9, text: '1000000000/1s' });
  assert.ok(l.handle.buffer.byteLength < 200_000);
  assert.equal(l.acquire(5e8, 0), 5e8);
  assert.equal(l.acquire(1e9, 1), 5e8);
  assert.equal(l.acquire(1, 2), 0);
  assert.equal(l.acquire(1e9, 1e9), 5e8);
});

test('limitedTake takes min(n, allowed) and records exactly the items it took', () => {
  const q = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  const l = limiter(5, 1000);
  assert.deepEqual(limitedTake(q, l, 5, 0), [], 'an empty queue takes nothing and records nothing');
  assert.equal(l.total, 0);
  for (const v of ['a', 'b', 'c']) q.push(v);
  assert.deepEqual(
    limitedTake(q, l, 10, 0).map((i) => i.value),
    ['a', 'b', 'c'],
  );
  assert.equal(l.total, 3, 'three taken, three recorded: the window still has room for two');
  for (let i = 0; i < 10; i++) q.push(`v${i}`);
  assert.deepEqual(
    limitedTake(q, l, 10, 10).map((i) => i.value),
    ['v0', 'v1'],
  );
  assert.deepEqual(limitedTake(q, l, 10, 999), []);
  assert.equal(q.size, 8, 'what the window refused stays queued');
  assert.deepEqual(
    limitedTake(q, l, 2, 1000).map((i) => i.value),
    ['v2', 'v3'],
    'n bounds it as well',
  );
  assert.deepEqual(
    limitedTake(q, l, 9, 1010).map((i) => i.value),
    ['v4', 'v5', 'v6'],
  );
  assert.equal(l.total, 10);
  assert.deepEqual(l.grants(), [
    [1000, 2],
    [1010, 3],
  ]);
});

test('bad input is a clear error', () => {
  const l = limiter(5, 1000);
  for (const want of [-1, 0.5, NaN])
    assert.throws(
      () => l.acquire(want, 0),
      /timer "shaper": limit 5\/1000ns: acquire: the count wanted must be an integer >= 0/,
    );
  assert.throws(() => l.acquire(1, NaN), /the time must be a finite number of nanoseconds; got NaN/);
  assert.throws(() => l.acquire(1, () => 'x' as never), /got the string "x"/);
  assert.throws(() => l.availableAt(6), /availableAt: k must be an integer from 1 to 5/);
  const q = SharedQueue.create({ name: 'q', size: 1, maxBytes: 10, addmode: 0 });
  assert.throws(() => limitedTake(q, l, -2, 0), /take: the count wanted must be an integer >= 0/);
  assert.throws(
    () => WindowLimiter.create('t', { count: 0, windowNs: 1, text: '0/1s' }),
    /timer "t": limit "0\/1s": the count 0 is not valid; expected an integer from 1 to 1000000000$/,
  );
  assert.throws(
    () => WindowLimiter.create('t', { count: 1, windowNs: 0.5, text: '1/0s' }),
    /the window 0.5 ns is not valid/,
  );
  assert.throws(() => WindowLimiter.attach({ kind: 'ptimer.table' } as never), /expected a limiter handle/);
  const other = WindowLimiter.attach(structuredClone(l.handle));
  assert.equal(other.acquire(5, 0), 5);
  assert.equal(l.acquire(1, 0), 0, 'an attached limiter shares the window');
});

test('limitedTake with send: the items are sent under the lock and the grants recorded at the time the send returned', () => {
  const q = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 10; i++) q.push(`v${i}`);
  const l = limiter(5, 1000);
  let now = 100;
  const sent: string[] = [];
  const items = limitedTake(
    q,
    l,
    3,
    () => now,
    (batch) => {
      for (const b of batch) sent.push(b.value as string);
      now += 7; // sending took 7 ns
    },
  );
  assert.deepEqual(sent, ['v0', 'v1', 'v2']);
  assert.equal(items.length, 3);
  assert.deepEqual(
    l.grants(),
    [[107, 3]],
    'counted from when the send returned: a receiver may see its last datagram then',
  );
  assert.throws(
    () =>
      limitedTake(
        q,
        l,
        2,
        () => now,
        () => {
          throw new Error('socket closed');
        },
      ),
    /socket closed/,
  );
  assert.equal(l.total, 5, 'taken is taken: recorded even when send throws');
  assert.equal(q.size, 5);
  const plain = SharedQueue.create({ name: 'p', size: 5, maxBytes: 100, addmode: 0 });
  plain.push('x');
  let got: unknown[] = [];
  assert.equal(plain.take(3, { send: (b) => (got = b) }).length, 1);
  assert.equal(got.length, 1, 'a queue without a limit hands them to send too');
  assert.deepEqual(plain.take(3, { send: () => assert.fail('not called for nothing') }), []);
});

test('booking.at: grants are recorded at the instant slept to, never ahead of now nor behind a time already used', () => {
  const q = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 20; i++) q.push(`v${i}`);
  const l = limiter(5, 1000);
  assert.equal(limitedTake(q, l, 2, 130, undefined, { at: 100 }).length, 2);
  assert.deepEqual(l.grants(), [[100, 2]], 'woke at 130 for 100: booked at 100');
  assert.equal(limitedTake(q, l, 1, 140, undefined, { at: 90 }).length, 1);
  assert.deepEqual(l.grants(), [[100, 3]], 'not behind the latest time used (100): booked there');
  assert.equal(limitedTake(q, l, 1, 150, undefined, { at: 200 }).length, 1);
  assert.deepEqual(l.grants().at(-1), [150, 1], 'an instant not yet come is not used');
  // The window is judged at the booked instant: at 1100 the grants of 100 are exactly W old.
  assert.equal(limitedTake(q, l, 5, 1120, undefined, { at: 1100 }).length, 4, '3 freed at 1100; 150 still in');
  assert.deepEqual(l.grants(), [
    [150, 1],
    [1100, 4],
  ]);
  // A wake-up more than BOOK_AT_TOLERANCE_NS past the instant books where it is: its sends begin there.
  const m = limiter(5, 1_000_000);
  assert.equal(limitedTake(q, m, 1, 100_000 + BOOK_AT_TOLERANCE_NS + 1, undefined, { at: 100_000 }).length, 1);
  assert.deepEqual(m.grants(), [[100_000 + BOOK_AT_TOLERANCE_NS + 1, 1]]);
  assert.equal(limitedTake(q, m, 1, 200_000 + BOOK_AT_TOLERANCE_NS, undefined, { at: 200_000 }).length, 1);
  assert.deepEqual(m.grants().at(-1), [200_000, 1], 'within the tolerance: at the instant');
});

test('a take with send books where the send returned, however long it or the take before it stalled', () => {
  const q = SharedQueue.create({ name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 });
  for (let i = 0; i < 20; i++) q.push(`v${i}`);
  const l = limiter(50, 1_000_000_000);
  let now = 1_000_000;
  const slowTake = (k: number) => {
    now += 100_000; // the take itself stalled 100 us (a first run's compiling, a preemption)
    return q.take(k);
  };
  l.takeLimited(
    2,
    () => now,
    slowTake,
    () => (now += 5_000),
  );
  assert.deepEqual(l.grants(), [[1_105_000, 2]], 'at the end of the send, after the stalled take');
  now = 2_000_000;
  l.takeLimited(
    2,
    () => now,
    (k) => q.take(k),
    () => (now += 300_000),
    { at: 1_990_000 },
  );
  assert.deepEqual(l.grants().at(-1), [2_300_000, 2], 'a send stalled 300 us: its last datagram may land then');
});
