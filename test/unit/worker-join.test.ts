/**
 * How a timer's workers join its grid (worker-machine.ts, enterLoop), on the virtual clock:
 * workers started together run the same first grid point, each on the slice offset its start
 * route chose, however late one of them entered its loop; that one's late first run is reported
 * once (a late join) and kept out of the lateness figures; a worker started again later rejoins
 * with the slice it would have had (offset + tick), never a shifted one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MS, simulateThread, type VirtualRouteCall } from '../support/virtual-worker.js';
import { JOIN_WINDOW_NS } from '../../src/core/worker-machine.js';

const INTERVAL = 10 * MS;
const NSLICES = 10;

/** A synced slice timer's settings with one origin shared by its workers (as grid-origin.ts gives them). */
function sharedGrid() {
  let t0: number | null = null;
  return {
    synced: true,
    sliced: true,
    intervalNs: INTERVAL,
    ntasks: 25,
    nslices: NSLICES,
    origin: (now: number) => (t0 ??= now),
  };
}

/** Every loop run of `worker` is on slice (offset + tick) mod nslices. */
function shifted(calls: VirtualRouteCall[], worker: number, offset: number): VirtualRouteCall[] {
  return calls.filter((c) => c.worker === worker && c.route === 'loop' && c.slice !== (offset + c.tick) % NSLICES);
}

test('workers started together run the same first grid point on their offsets, however late one came up; its late first run is a late join, reported once and not counted as lateness', async () => {
  const settings = sharedGrid();
  const startOn = (offset: number, takes: number) => (_c: VirtualRouteCall, m: { attributes: { slice: number } }) => {
    m.attributes.slice = offset;
    return { duration: takes };
  };
  // Worker 1's start route (its thread coming up) takes 2.5 intervals: it misses tick 0, 1 and 2.
  const sim = await simulateThread({
    workers: [
      { settings, routes: { start: startOn(0, 0), loop: () => {} } },
      { settings, routes: { start: startOn(5, 25 * MS), loop: () => {} } },
    ],
    stopAt: 200 * MS,
  });
  const firstRun = (w: number) => sim.calls.find((c) => c.worker === w && c.route === 'loop')!;
  assert.equal(firstRun(0).tick, 0);
  assert.equal(firstRun(1).tick, 0, 'the late worker runs the shared first point, late');
  assert.equal(firstRun(1).slice, 5, 'on the offset its start route chose');
  assert.deepEqual(shifted(sim.calls, 0, 0), []);
  assert.deepEqual(shifted(sim.calls, 1, 5), [], 'every run of the late worker on offset + tick');
  assert.equal(sim.lateJoins[0]!.length, 0);
  assert.equal(sim.lateJoins[1]!.length, 1, 'reported once');
  assert.ok(sim.lateJoins[1]![0]![0] >= 25 * MS, `${sim.lateJoins[1]![0]![0]} ns after the join point`);
  assert.equal(sim.machines[1]!.counters.lateJoins, 1);
  assert.equal(sim.machines[0]!.counters.lateJoins, 0);
  assert.ok(
    Math.max(...sim.lateness[1]!) < INTERVAL,
    `the late first run is not in the lateness figures (max ${Math.max(...sim.lateness[1]!)} ns)`,
  );
  assert.equal(sim.lateness[1]!.length, sim.machines[1]!.counters.iterations - 1, 'every run but the join counted');
  // Runs made + overruns = ticks due, the late join's skipped points included.
  for (const m of sim.machines) assert.equal(m.counters.iterations + m.counters.overruns, m.ticksDue);
});

test('a worker started again later rejoins at the first point after its start, with the slice it would have had (offset + tick)', async () => {
  const settings = sharedGrid();
  const sim = await simulateThread({
    workers: [
      { settings, routes: { start: (_c, m) => void (m.attributes.slice = 0), loop: () => {} } },
      // Its start route takes 3 ms the second time: still before the point after the command.
      {
        settings,
        routes: {
          start: (c, m) => {
            m.attributes.slice = 5;
            return { duration: c.at > 0 ? 3 * MS : 0 };
          },
          loop: () => {},
        },
      },
    ],
    commands: [{ at: 73 * MS, command: 'start', worker: 1 }],
    stopAt: 200 * MS,
  });
  const restarted = sim.calls.filter((c) => c.worker === 1 && c.route === 'loop' && c.at > 73 * MS);
  assert.equal(restarted[0]!.tick, 8, 'the first point at or after the start (80 ms)');
  assert.equal(restarted[0]!.slice, (5 + 8) % NSLICES, 'offset + tick: the slice it would have had');
  assert.deepEqual(shifted(sim.calls, 1, 5), []);
  assert.deepEqual(sim.lateJoins[1], [], 'on time for its join point: no late join');
  assert.equal(sim.machines[1]!.counters.overruns, 0);
});

test('a worker entering long after its join point (a respawned thread) joins the next point, on offset + tick, and is reported', async () => {
  const settings = sharedGrid();
  const late = JOIN_WINDOW_NS + 55 * MS;
  const sim = await simulateThread({
    workers: [
      { settings, routes: { start: (_c, m) => void (m.attributes.slice = 0), loop: () => {} } },
      { settings, routes: { start: (_c, m) => ((m.attributes.slice = 5), { duration: late }), loop: () => {} } },
    ],
    stopAt: late + 100 * MS,
  });
  const first = sim.calls.find((c) => c.worker === 1 && c.route === 'loop')!;
  assert.equal(
    first.tick,
    Math.ceil(late / INTERVAL),
    'the next point not yet past, not tick 0 over a hundred overruns',
  );
  assert.equal(first.slice, (5 + first.tick) % NSLICES);
  assert.deepEqual(shifted(sim.calls, 1, 5), []);
  assert.equal(sim.lateJoins[1]!.length, 1);
  assert.equal(sim.machines[1]!.counters.overruns, 0);
  for (const m of sim.machines) assert.equal(m.counters.iterations + m.counters.overruns, m.ticksDue);
});
