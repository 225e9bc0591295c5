/**
 * The cluster limit on a virtual clock: the sliding log's admission rule (fast-check: no window of
 * W + 2 x guard ever holds more than N, whatever the order of requests), several nodes booking one
 * limit through the MemoryStore (the limit holds across them, throughput near N/W), and the
 * refusals: unknown or bad clock offset, quarantine, stale token. Also the cluster clock's
 * midpoint estimate, its slewing and the epoch grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { admit, fits, mostInWindow } from '../../src/cluster/sliding-log.js';
import { ClusterClock, EpochGrid, SLEW_PPM, sampleOf } from '../../src/cluster/cluster-clock.js';
import { LimitBooker } from '../../src/cluster/limit-booker.js';
import { MemoryStore } from '../../src/cluster/memory-store.js';

const MS = 1e6;

test('sliding log: any order of candidates, no window of the span holds more than N', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 10, max: 1000 }),
      fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 30 }), { maxLength: 6 }),
      (count, span, batches) => {
        const log: number[] = [];
        for (const batch of batches)
          admit(
            log,
            [...batch].sort((a, b) => a - b),
            count,
            span,
          );
        assert.ok(mostInWindow(log, span) <= count, `${mostInWindow(log, span)} in a window: ${log.join(',')}`);
        for (let i = 1; i < log.length; i++) assert.ok(log[i - 1]! <= log[i]!, 'kept ascending');
      },
    ),
    { numRuns: 300 },
  );
});

test('sliding log: exact, not a fixed window (no 2N - 1 across a window boundary)', () => {
  const log: number[] = [];
  // 5 per 1000: five at 990..994 admitted, then nothing until 1990.
  assert.deepEqual(
    admit(log, [990, 991, 992, 993, 994, 1000, 1001, 1989, 1990], 5, 1000),
    [990, 991, 992, 993, 994, 1990],
  );
  assert.equal(fits(log, 1500, 5, 1000), false);
  assert.equal(fits(log, 1991, 5, 1000), true);
  // Repeats count: five takes at one grid point fill the window.
  const same: number[] = [];
  assert.deepEqual(admit(same, [7, 7, 7, 7], 3, 100), [7, 7, 7]);
});

test('cluster clock: the midpoint estimate, its error bound, the best of recent samples', () => {
  const s = sampleOf(1000, 1400, 5_000_000, 9_000);
  assert.equal(s.shiftNs, 5_000_000 - 1200);
  assert.equal(s.errorNs, 200);
  assert.equal(s.offsetNs, 5_000_000 - 9_000);
  const clock = new ClusterClock();
  assert.equal(clock.known, false);
  assert.throws(() => clock.toServerNs(0), /no measurement/);
  clock.add({ shiftNs: 100, offsetNs: 5, errorNs: 300, atMonoNs: 0 });
  clock.add({ shiftNs: 110, offsetNs: 7, errorNs: 50, atMonoNs: 1e9 });
  clock.add({ shiftNs: 90, offsetNs: 9, errorNs: 400, atMonoNs: 2e9 });
  assert.deepEqual(clock.offset(), { offsetNs: 7, errorNs: 50 });
});

test('cluster clock: slews toward a new measurement at most SLEW_PPM of elapsed time; steps when far', () => {
  const clock = new ClusterClock();
  clock.add({ shiftNs: 0, offsetNs: 0, errorNs: 10, atMonoNs: 0 });
  assert.equal(clock.toServerNs(0), 0);
  // 1 ms off, one second later: moves by 0.5 ms only.
  clock.add({ shiftNs: 1 * MS, offsetNs: 0, errorNs: 1, atMonoNs: 1e9 });
  assert.equal(clock.toServerNs(0), (1e9 * SLEW_PPM) / 1e6);
  clock.add({ shiftNs: 1 * MS, offsetNs: 0, errorNs: 1, atMonoNs: 2e9 });
  assert.equal(clock.toServerNs(0), 1 * MS);
  // A step (a new Redis host's clock): taken at once.
  clock.add({ shiftNs: 500 * MS, offsetNs: 0, errorNs: 0.5, atMonoNs: 2.1e9 });
  assert.equal(clock.toServerNs(0), 500 * MS);
});

test('epoch grid: ticks name the same server-time grid points on every node', () => {
  const grid = new EpochGrid(1_000 * MS, 100 * MS);
  assert.equal(grid.tickAtOrAfter(1_000 * MS), 0);
  assert.equal(grid.tickAtOrAfter(1_000 * MS + 1), 1);
  assert.equal(grid.tickAtOrAfter(1_250 * MS), 3);
  assert.equal(grid.deadlineNs(3), 1_300 * MS);
  assert.equal(grid.tickAtOrAfter(0), 0, 'before the epoch: tick 0');
  const a = new ClusterClock();
  const b = new ClusterClock();
  a.add({ shiftNs: 7e12, offsetNs: 0, errorNs: 10, atMonoNs: 0 });
  b.add({ shiftNs: -3e9, offsetNs: 0, errorNs: 10, atMonoNs: 0 });
  // The same server deadline maps to each node's own monotonic time.
  assert.equal(a.toServerNs(a.toMonoNs(grid.deadlineNs(42))), b.toServerNs(b.toMonoNs(grid.deadlineNs(42))));
});

/** Nodes booking one limit through one store, each on its own slot; server time = true time. */
async function bookingRun(options: {
  nodes: number;
  count: number;
  windowNs: number;
  intervalNs: number;
  seconds: number;
  fireErrorNs: number;
}) {
  let now = 0;
  const store = new MemoryStore(() => Math.floor(now / 1e3));
  const grid = new EpochGrid(0, options.intervalNs);
  const nodes = await Promise.all(
    Array.from({ length: options.nodes }, async (_, i) => {
      const slot = `t:${i}`;
      const lease = await store.acquire(slot, `n${i}`, 1e9);
      assert.equal(lease.granted, true);
      const clock = new ClusterClock();
      clock.add({ shiftNs: 0, offsetNs: 0, errorNs: 20e3, atMonoNs: 0 });
      const booker = new LimitBooker({
        limit: 't',
        count: options.count,
        windowNs: options.windowNs,
        maxOffsetNs: 2 * MS,
        horizonNs: options.windowNs / 2,
        fireErrorNs: options.fireErrorNs,
        node: `n${i}`,
        store,
        clock,
        grid,
      });
      return { slot, token: (lease as { token: number }).token, booker, released: [] as number[] };
    }),
  );
  const refillEvery = options.windowNs / 4;
  for (let t = 0; t < options.seconds * 1e9; t += options.intervalNs) {
    now = t;
    const tick = grid.tickAtOrAfter(t);
    for (const node of nodes) if (node.booker.spend(tick)) node.released.push(grid.deadlineNs(tick));
    // Each node refills on its own phase.
    for (const [i, node] of nodes.entries()) {
      if (
        Math.floor((t + i * 7 * MS) / refillEvery) !== Math.floor((t + i * 7 * MS - options.intervalNs) / refillEvery)
      ) {
        await node.booker.refill(node.slot, node.token, t, false);
      }
    }
  }
  return { nodes, store };
}

test('three nodes booking one limit=50/1s: no window of W holds more than 50 releases; throughput near N/W', async () => {
  const W = 1000 * MS;
  const { nodes } = await bookingRun({
    nodes: 3,
    count: 50,
    windowNs: W,
    intervalNs: 5 * MS,
    seconds: 20,
    fireErrorNs: 200e3,
  });
  const all = nodes.flatMap((n) => n.released).sort((a, b) => a - b);
  assert.ok(mostInWindow(all, W) <= 50, `${mostInWindow(all, W)} in one window`);
  // Shifted by each release's possible error (guard), still at most 50.
  assert.ok(mostInWindow(all, W + 2 * 220e3) <= 50);
  const steady = all.filter((t) => t >= 2e9).length / 18;
  assert.ok(steady >= 0.98 * 50, `throughput ${steady.toFixed(1)}/s of 50/s`);
  for (const n of nodes) assert.ok(n.released.length > 0, 'every node releases its share');
  // Store calls do not grow with the take rate: one per refill.
  for (const n of nodes) assert.ok(n.booker.counters.asked > 0);
});

test('booking refused: no clock measurement, an offset past max_offset, the quarantine, a stale token', async () => {
  let now = 0;
  const store = new MemoryStore(() => Math.floor(now / 1e3));
  const lease = (await store.acquire('t:0', 'n0', 1000)) as { granted: true; token: number };
  const clock = new ClusterClock();
  const booker = new LimitBooker({
    limit: 't',
    count: 5,
    windowNs: 1e9,
    maxOffsetNs: 2 * MS,
    horizonNs: 500 * MS,
    fireErrorNs: 100e3,
    node: 'n0',
    store,
    clock,
    grid: new EpochGrid(0, 10 * MS),
  });
  assert.equal(await booker.refill('t:0', lease.token, 0, false), 'clock-unknown');
  clock.add({ shiftNs: 0, offsetNs: 3 * MS, errorNs: 10e3, atMonoNs: 0 });
  assert.equal(await booker.refill('t:0', lease.token, 0, false), 'clock-offset');
  assert.match(booker.lastRefusal!.detail, /exceeds max_offset 2000 us/);
  clock.add({ shiftNs: 0, offsetNs: 100e3, errorNs: 5e3, atMonoNs: 1 });
  assert.equal(await booker.refill('t:0', lease.token, 0, true), 'quarantine');
  assert.equal(await booker.refill('t:0', lease.token + 1, 0, false), 'stale');
  assert.equal(
    await booker.refill('t:0', lease.token, 0, false),
    0,
    'the stale ask used up nothing: already-asked points are not asked twice',
  );
  now = 600 * MS;
  assert.equal(await booker.refill('t:0', lease.token, now, false), 5);
  assert.deepEqual(booker.counters.refused, {
    'clock-unknown': 1,
    'clock-offset': 1,
    quarantine: 1,
    stale: 1,
    unreachable: 0,
  });
  store.down = true;
  now = 2000 * MS;
  assert.equal(await booker.refill('t:0', lease.token, now, false), 'unreachable');
});
