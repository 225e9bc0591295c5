/**
 * One scheduler thread with many workers, on a virtual clock: deadline order, equal deadlines,
 * commands between runs, one grid per timer, commands never lost or merged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateThread, MS, US, type VirtualWorkerSpec } from '../support/virtual-worker.js';
import { DeadlineHeap, type HeapEntry } from '../../src/core/deadline-heap.js';

const loopOnly = (duration = 0): VirtualWorkerSpec['routes'] => ({ loop: () => ({ duration }) });

test('workers due at the same instant run back to back in placement order; different intervals interleave by deadline', async () => {
  const sim = await simulateThread({
    workers: [
      { settings: { intervalNs: 2 * MS }, routes: loopOnly(10 * US) },
      { settings: { intervalNs: MS }, routes: loopOnly(10 * US) },
      { settings: { intervalNs: MS }, routes: loopOnly(10 * US) },
    ],
    stopAt: 3 * MS - 1,
  });
  const loops = sim.calls.filter((c) => c.route === 'loop').map((c) => `${c.worker}@${c.deadline / US}`);
  assert.deepEqual(loops, ['0@0', '1@0', '2@0', '1@1000', '2@1000', '0@2000', '1@2000', '2@2000']);
  // Back to back: each run starts when the one before it returned.
  const at = sim.calls.filter((c) => c.route === 'loop' && c.deadline === 0).map((c) => c.at / US);
  assert.deepEqual(at, [0, 10, 20]);
});

test('a command to one worker changes that worker only; the others keep their deadlines', async () => {
  const sim = await simulateThread({
    workers: [{ routes: loopOnly() }, { routes: loopOnly() }],
    commands: [
      { at: 1_500 * US, worker: 1, command: 'pause' },
      { at: 3_500 * US, worker: 1, command: 'continue' },
    ],
    stopAt: 5 * MS - 1,
  });
  const runsOf = (w: number) =>
    sim.calls.filter((c) => c.route === 'loop' && c.worker === w).map((c) => c.deadline / MS);
  assert.deepEqual(runsOf(0), [0, 1, 2, 3, 4]);
  assert.deepEqual(runsOf(1), [0, 1, 4], 'paused from 1.5 to 3.5 ms: ticks 2 and 3 were not due');
  assert.equal(sim.machines[1]!.counters.overruns, 0);
  assert.deepEqual(
    sim.answers.map((a) => [a.worker, a.command, a.changed]),
    [
      [1, 'pause', true],
      [1, 'continue', true],
    ],
  );
});

test('100 end+start pairs sent back to back: end and start each run exactly 100 times, every command answered once, in order', async () => {
  const commands = Array.from({ length: 100 }, (_, i) => [
    { at: 5 * MS + i * 3 * US, command: 'end' as const },
    { at: 5 * MS + i * 3 * US, command: 'start' as const },
  ]).flat();
  const sim = await simulateThread({
    workers: [
      {
        routes: {
          start: () => ({ duration: 5 * US }),
          loop: () => ({ duration: US }),
          end: () => ({ duration: 5 * US }),
        },
      },
    ],
    commands,
    stopAt: 20 * MS,
  });
  const count = (route: string) => sim.calls.filter((c) => c.route === route).length;
  // 1 initial start + 100; 100 ends + 1 at stop.
  assert.equal(count('start'), 101);
  assert.equal(count('end'), 101);
  assert.equal(sim.answers.length, 200);
  assert.deepEqual(
    sim.answers.map((a) => a.seq),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  assert.ok(sim.answers.every((a) => a.refusal === undefined));
  // Each start was answered after its own start route ran, each end after its end route.
  const order = sim.calls
    .filter((c) => c.route !== 'loop')
    .map((c) => c.route)
    .slice(1, 201);
  assert.deepEqual(order, Array.from({ length: 100 }, () => ['end', 'start']).flat());
});

test('one grid per timer: a worker whose start takes longer joins the same grid points', async () => {
  let origin: number | null = null;
  const shared = (now: number) => (origin ??= now);
  const sim = await simulateThread({
    workers: [
      {
        settings: { intervalNs: 100 * MS, origin: shared, sliced: true, ntasks: 10, nslices: 10 },
        routes: { start: () => ({ duration: 1 * MS }), loop: () => {} },
      },
      {
        settings: { intervalNs: 100 * MS, origin: shared, sliced: true, ntasks: 10, nslices: 10 },
        routes: {
          start: (_c, m) => {
            m.attributes.slice = 5;
            return { duration: 37 * MS };
          },
          loop: () => {},
        },
      },
    ],
    stopAt: 450 * MS,
  });
  const loops = (w: number) => sim.calls.filter((c) => c.route === 'loop' && c.worker === w);
  // The thread runs start routes one after the other: worker 0's loop begins at 1 ms (the origin),
  // worker 1's at 38 ms, within the grid's first period: it joins tick 0 at once, late.
  assert.deepEqual(
    loops(0).map((c) => c.deadline / MS),
    [1, 101, 201, 301, 401],
  );
  assert.deepEqual(
    loops(1).map((c) => c.deadline / MS),
    [1, 101, 201, 301, 401],
    'the same grid points',
  );
  assert.equal(loops(1)[0]!.at / MS, 38);
  assert.deepEqual(
    loops(0).map((c) => c.slice),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(
    loops(1).map((c) => c.slice),
    [5, 6, 7, 8, 9],
    'five slices apart at every tick',
  );
});

test('a synced slice timer: the slice follows the grid, so a dropped tick drops its slice and two workers stay aligned', async () => {
  let origin: number | null = null;
  const shared = (now: number) => (origin ??= now);
  const settings = { intervalNs: MS, origin: shared, sliced: true, ntasks: 10, nslices: 10 };
  const sim = await simulateThread({
    workers: [
      // Worker 0's run at tick 2 takes 1.5 ms: tick 3 is dropped.
      { settings, routes: { loop: (c) => ({ duration: c.tick === 2 ? 1_500 * US : 0 }) } },
      {
        settings,
        routes: {
          start: (_c, m) => {
            m.attributes.slice = 5;
          },
          loop: () => {},
        },
      },
    ],
    stopAt: 7 * MS - 1,
  });
  const at = (w: number) =>
    new Map(sim.calls.filter((c) => c.route === 'loop' && c.worker === w).map((c) => [c.tick, c.slice]));
  assert.deepEqual([...at(0).keys()], [0, 1, 2, 4, 5, 6]);
  for (const [tick, slice] of at(0)) assert.equal(slice, tick % 10, `worker 0, tick ${tick}`);
  for (const [tick, slice] of at(1)) assert.equal(slice, (tick + 5) % 10, `worker 1, tick ${tick}`);
  assert.equal(sim.machines[0]!.counters.overruns, 1);
});

test('a timer that starts paused runs nothing until continue, then its start route', async () => {
  const sim = await simulateThread({
    workers: [{ routes: { start: () => {}, loop: () => {} }, initial: 'paused' }],
    commands: [{ at: 3_200 * US, command: 'continue' }],
    stopAt: 5 * MS - 1,
  });
  assert.deepEqual(
    sim.calls.map((c) => `${c.route}@${c.at / US}`),
    ['start@3200', 'loop@3200', 'loop@4200'],
  );
});

test('a start route that throws makes that start fail with the route message (500); the error is counted', async () => {
  let first = true;
  const sim = await simulateThread({
    workers: [
      {
        routes: {
          start: () => {
            if (first) {
              first = false;
              return;
            }
            throw new Error('boom');
          },
          loop: () => {},
          end: () => {},
        },
      },
    ],
    commands: [{ at: 2_500 * US, command: 'start' }],
    stopAt: 5 * MS,
  });
  assert.equal(sim.answers.length, 1);
  assert.equal(sim.answers[0]!.code, 500);
  assert.match(sim.answers[0]!.refusal!, /start route threw/);
  assert.equal(sim.machines[0]!.counters.errors, 1);
  assert.equal(sim.machines[0]!.phase, 'ended', 'a failed start ends the worker (as -1 would)');
});

test('many workers with random stalls: for each, runs + overruns = ticks due, and none runs before its deadline', async () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const workers: VirtualWorkerSpec[] = Array.from({ length: 20 }, (_, i) => ({
    settings: { intervalNs: (1 + (i % 3)) * MS },
    routes: { loop: () => ({ duration: random() < 0.03 ? random() * 5 * MS : 20 * US }) },
  }));
  const sim = await simulateThread({ workers, stopAt: 500 * MS, wakeLateness: () => random() * 30 * US });
  sim.machines.forEach((m, i) => {
    assert.equal(m.counters.iterations + m.counters.overruns, m.ticksDue, `worker ${i}`);
    assert.ok(m.counters.iterations > 100, `worker ${i} ran`);
  });
  assert.ok(
    sim.lateness.flat().every((ns) => ns >= 0),
    'no run before its deadline',
  );
});

test('DeadlineHeap: random sets and deletes come out in (deadline, order) order', () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const entries: HeapEntry[] = Array.from({ length: 200 }, (_, order) => ({ order, deadline: 0, heapIndex: -1 }));
  const heap = new DeadlineHeap<HeapEntry>();
  const inHeap = new Set<HeapEntry>();
  for (let step = 0; step < 5_000; step++) {
    const entry = entries[Math.floor(random() * entries.length)]!;
    if (random() < 0.7) {
      heap.set(entry, Math.floor(random() * 50));
      inHeap.add(entry);
    } else {
      heap.delete(entry);
      inHeap.delete(entry);
    }
  }
  const expected = [...inHeap].sort((a, b) => a.deadline - b.deadline || a.order - b.order);
  const drained: HeapEntry[] = [];
  while (heap.size > 0) {
    const top = heap.peek()!;
    drained.push(top);
    heap.delete(top);
  }
  assert.deepEqual(
    drained.map((e) => e.order),
    expected.map((e) => e.order),
  );
});
