/**
 * Pacing of the four timer types, on a virtual clock: where each loop run falls, how
 * overruns are counted, and that the sync grid never shifts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, MS, US } from '../support/virtual-worker.js';

test('sync: the first run comes right after start, then one run per interval on the grid', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { start: () => ({ duration: 300 * US }), loop: () => ({ duration: 100 * US }) },
    stopAt: 10 * MS + 500 * US,
  });
  const loops = sim.runs('loop');
  const t0 = 300 * US;
  assert.deepEqual(
    loops.map((c) => c.at),
    Array.from({ length: 11 }, (_, k) => t0 + k * MS),
  );
  assert.deepEqual(
    loops.map((c) => c.tick),
    Array.from({ length: 11 }, (_, k) => k),
  );
  assert.equal(sim.machine.counters.overruns, 0);
  assert.ok(sim.lateness.every((l) => l === 0));
});

test('sync: an overrun drops the grid points already past, counts them, and keeps the grid', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    // tick 3 runs 2.5 ms: it ends at 5.5 ms, so points 4 and 5 are past and dropped.
    routes: { loop: (call) => ({ duration: call.tick === 3 ? 2_500 * US : 10 * US }) },
    stopAt: 9 * MS + 500 * US,
  });
  const loops = sim.runs('loop');
  assert.deepEqual(
    loops.map((c) => c.tick),
    [0, 1, 2, 3, 6, 7, 8, 9],
  );
  assert.deepEqual(
    loops.map((c) => c.at),
    [0, 1, 2, 3, 6, 7, 8, 9].map((k) => k * MS),
  );
  assert.equal(sim.machine.counters.overruns, 2);
  // Runs made + overruns = ticks due (points 0..9).
  assert.equal(sim.machine.counters.iterations + sim.machine.counters.overruns, 10);
});

test('sync: a grid point exactly reached when a run ends is run at once, not dropped', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { loop: (call) => ({ duration: call.tick === 1 ? MS : 0 }) },
    stopAt: 4 * MS + 1,
  });
  assert.deepEqual(
    sim.runs('loop').map((c) => c.tick),
    [0, 1, 2, 3, 4],
  );
  assert.equal(sim.machine.counters.overruns, 0);
});

test('sync: late wake-ups do not drift the grid (1000 ticks, every wake-up 37 us late)', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { loop: () => ({ duration: 5 * US }) },
    wakeLateness: () => 37 * US,
    stopAt: 999 * MS + 500 * US,
  });
  const loops = sim.runs('loop');
  assert.equal(loops.length, 1000);
  const last = loops.at(-1)!;
  assert.equal(last.at, 999 * MS + 37 * US, 'the last run is as late as the first late one: no drift');
  assert.equal(sim.machine.counters.overruns, 0);
});

test('sync: runs made + overruns = ticks due, under random route times and stalls', async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sim = await simulate({
    settings: { synced: true, intervalNs: 100 * US },
    routes: {
      loop: () => ({ duration: random() < 0.05 ? Math.floor(random() * 450 * US) : Math.floor(random() * 30 * US) }),
    },
    wakeLateness: () => (random() < 0.02 ? Math.floor(random() * 300 * US) : Math.floor(random() * 20 * US)),
    stopAt: 200 * MS,
  });
  const { iterations, overruns } = sim.machine.counters;
  const { nextTick, ticksNotDue } = sim.machine.schedule;
  assert.ok(overruns > 0, 'the scenario has overruns');
  assert.equal(iterations + overruns + ticksNotDue, nextTick);
  // Every run sits at or after its own grid point, and ticks only go forward.
  const loops = sim.runs('loop');
  for (let i = 0; i < loops.length; i++) {
    assert.ok(loops[i]!.at >= loops[i]!.tick * 100 * US);
    if (i > 0) assert.ok(loops[i]!.tick > loops[i - 1]!.tick);
  }
  // The run after an overrun is never made late in a burst: it is on a point not yet past.
  assert.ok(sim.lateness.every((l) => l < 100 * US + 300 * US));
});

test('basic: sleeps the interval after each run (period = interval + run time), never counts overruns', async () => {
  const sim = await simulate({
    settings: { synced: false, intervalNs: MS },
    routes: { loop: () => ({ duration: 100 * US }) },
    stopAt: 5 * MS,
  });
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at),
    [1, 2, 3, 4].map((k) => k * 1_100 * US - 100 * US),
  );
  assert.equal(sim.machine.counters.overruns, 0);
});

test('basic: a long run only delays the next one; nothing is dropped', async () => {
  const sim = await simulate({
    settings: { synced: false, intervalNs: MS },
    routes: { loop: (call) => ({ duration: call.tick === 0 ? 5 * MS : 0 }) },
    stopAt: 8 * MS + 1,
  });
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at),
    [1, 7, 8].map((k) => k * MS),
  );
  assert.deepEqual(
    sim.runs('loop').map((c) => c.tick),
    [0, 1, 2],
  );
  assert.equal(sim.machine.counters.overruns, 0);
});

for (const synced of [false, true]) {
  const type = synced ? 3 : 2;
  test(`type ${type}: tasks follow the slice, and the first run sees the start slice`, async () => {
    const sim = await simulate({
      settings: { synced, sliced: true, intervalNs: MS, ntasks: 10, nslices: 4 },
      routes: {
        start: (_c, machine) => {
          machine.attributes.slice = 2;
        },
        loop: () => {},
      },
      stopAt: 6 * MS + 1,
    });
    const loops = sim.runs('loop');
    // slice i has floor((i+1)*10/4) - floor(i*10/4) tasks: 2, 3, 2, 3
    assert.deepEqual(
      loops.slice(0, 5).map((c) => c.slice),
      [2, 3, 0, 1, 2],
    );
    assert.deepEqual(
      loops.slice(0, 5).map((c) => c.tasks),
      [2, 3, 2, 3, 2],
    );
  });
}

test('an interval written in start paces that worker (sync and basic)', async () => {
  for (const synced of [true, false]) {
    const sim = await simulate({
      settings: { synced, intervalNs: 1_000 * MS },
      routes: {
        start: (_c, machine) => {
          machine.attributes.intervalNs = 250 * US;
        },
        loop: () => {},
      },
      stopAt: MS + 1,
    });
    const first = synced ? 0 : 250 * US;
    assert.equal(sim.runs('loop')[0]!.at, first);
    assert.equal(sim.runs('loop')[1]!.at - sim.runs('loop')[0]!.at, 250 * US);
  }
});
