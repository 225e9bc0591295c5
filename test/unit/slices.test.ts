/** Slice arithmetic: k consecutive runs cover all n tasks exactly once; slices differ by at most one task. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstTaskOfSlice, tasksForSlice } from '../../src/core/slices.js';

function sampledPairs(): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let n = 0; n <= 1000; n += n < 50 ? 1 : 37) {
    for (let k = 1; k <= 100; k += k < 20 ? 1 : 7) pairs.push([n, k]);
    pairs.push([n, 100]);
  }
  for (const k of [1, 7, 64, 80, 99, 100]) pairs.push([1000, k]);
  return pairs;
}

test('k consecutive slices, from any starting slice, cover all n tasks exactly once', () => {
  for (const [n, k] of sampledPairs()) {
    for (const first of [0, Math.floor(k / 3), k - 1]) {
      const seen = new Uint8Array(n);
      let total = 0;
      for (let run = 0; run < k; run++) {
        const slice = (first + run) % k;
        const start = firstTaskOfSlice(slice, n, k);
        const count = tasksForSlice(slice, n, k);
        for (let t = start; t < start + count; t++) seen[t]!++;
        total += count;
      }
      assert.equal(total, n, `n=${n} k=${k} from slice ${first}: ${total} tasks`);
      assert.ok(
        seen.every((c) => c === 1),
        `n=${n} k=${k}: every task once`,
      );
    }
  }
});

test('per-slice counts differ by at most 1', () => {
  for (const [n, k] of sampledPairs()) {
    const counts = Array.from({ length: k }, (_, i) => tasksForSlice(i, n, k));
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `n=${n} k=${k}: ${counts.join(',')}`);
  }
});

test('the reference example: 1000 tasks over 80 slices gives 12 or 13 per slice', () => {
  const counts = Array.from({ length: 80 }, (_, i) => tasksForSlice(i, 1000, 80));
  assert.deepEqual([...new Set(counts)].sort(), [12, 13]);
});
