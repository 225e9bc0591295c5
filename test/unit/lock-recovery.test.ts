/**
 * Locks that survive a dead holder (issue 16, defects 2 and 11), without threads: a lock whose
 * holder word names a thread that exited is broken by the supervisor, and the structure it
 * guards is checked or repaired before use (src/data/shared-mutex.ts and each structure's
 * recoverFromDeadThread). The threaded test is in test/e2e/lock-recovery.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedMutex } from '../../src/data/shared-mutex.js';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { SharedTable } from '../../src/data/shared-table.js';
import { WindowLimiter } from '../../src/data/window-limiter.js';

const DEAD = 41;
const S = 1e9;

/** Makes the structure's lock (words 0-1) look held by thread `id`, as a thread that died inside it leaves it. */
function heldBy(words: Int32Array, id: number): void {
  Atomics.store(words, 0, 1);
  Atomics.store(words, 1, id + 1);
}
const wordsOf = (x: unknown) => (x as { words: Int32Array }).words;

test('a mutex held by a thread that exited is broken for that thread only, and is then free', () => {
  const words = new Int32Array(new SharedArrayBuffer(8));
  const mutex = new SharedMutex(words, 0, 'test lock', 50);
  heldBy(words, DEAD);
  assert.throws(() => mutex.lock(), /could not take its lock within 50 ms; it is held by thread 41/);
  assert.equal(mutex.breakIfHeldBy(DEAD + 1), false, 'another thread exiting does not break it');
  assert.equal(mutex.breakIfHeldBy(DEAD), true);
  mutex.lock(); // at once
  mutex.unlock();
  assert.equal(mutex.breakIfHeldBy(DEAD), false, 'nothing left to break');
});

test("a limiter whose holder died in take's send: lock broken, ring checked, the window booked full (never exceeded)", () => {
  const limiter = WindowLimiter.create('t', { count: 3, windowNs: S, text: '3/1s' });
  assert.equal(limiter.acquire(1, 10 * S), 1);
  heldBy(wordsOf(limiter), DEAD);
  // A torn sum (a death between the ring and its sum): recomputed from the entries.
  (limiter as unknown as { f64: Float64Array }).f64[5] = 1e9;
  assert.equal(limiter.recoverFromDeadThread(DEAD + 1, 10.5 * S), false);
  assert.equal(limiter.recoverFromDeadThread(DEAD, 10.5 * S), true);
  assert.equal(
    limiter.acquire(3, 10.5 * S),
    0,
    'the dead send may have sent up to the limit: nothing more in its window',
  );
  assert.equal(
    limiter.acquire(3, 11.2 * S),
    1,
    'the grant made before it has left its window; the booked ones have not',
  );
  assert.equal(limiter.acquire(3, 11.6 * S), 2, 'a window after the recovery, the limit again');
});

test('a queue whose holder died: checked and kept when consistent, emptied when torn; usable at once either way', () => {
  const queue = SharedQueue.create({ name: 'q', size: 10, maxBytes: 1 << 16, addmode: 0 });
  for (const v of ['a', 'b', 'c']) assert.ok(queue.push(v));
  assert.deepEqual(
    queue.take(1).map((i) => i.value),
    ['a'],
  );
  heldBy(wordsOf(queue), DEAD);
  assert.deepEqual(queue.recoverFromDeadThread(DEAD), { consistent: true, lost: 0 });
  assert.deepEqual(
    queue.take(5).map((i) => i.value),
    ['b', 'c'],
  );

  for (const v of ['d', 'e']) assert.ok(queue.push(v));
  heldBy(wordsOf(queue), DEAD);
  Atomics.store(wordsOf(queue), 2, 3); // COUNT one ahead of the list: a push that died halfway
  assert.deepEqual(queue.recoverFromDeadThread(DEAD), { consistent: false, lost: 3 });
  assert.equal(queue.size, 0);
  assert.ok(queue.push('f'));
  assert.deepEqual(
    queue.take(5).map((i) => i.value),
    ['f'],
  );
});

test('a table whose holder died mid-change: lock broken, the bucket left odd closed, reads and writes go on', () => {
  const table = SharedTable.create({ name: 'kpi', size: 2, maxEntries: 16, autoexpire: 0 }, {}, () => 0);
  table.set('k', 1);
  const words = wordsOf(table);
  heldBy(words, DEAD);
  // Every bucket's sequence made odd, as a writer in the middle of a change leaves its bucket.
  const BUCKETS = 16; // shared-table.ts: the bucket words begin after its 64-byte header
  for (let b = 0; b < 4; b++) Atomics.add(words, BUCKETS + 2 * b, 1);
  assert.deepEqual(table.recoverFromDeadThread(DEAD), { closedBuckets: 4 });
  assert.equal(table.get('k'), 1);
  table.set('k2', 2);
  assert.equal(table.get('k2'), 2);
});
