/**
 * The rate-shaping example's figures (examples/rate-shaping/measure.ts): the most in any
 * sliding window (checked against brute force), counts per slot, percentiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { busiestWindow, maxInWindow, perSlot, percentile } from '../../examples/rate-shaping/measure.js';
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
    fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 300 }), (times, w) => {
      const brute = Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + w).length));
      assert.equal(maxInWindow(times, w), brute);
    }),
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
