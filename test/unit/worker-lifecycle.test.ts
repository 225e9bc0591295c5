/**
 * The worker's life - start, loop, end, -1 and thrown errors - and every control command
 * in every state, on a virtual clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, MS, US, type VirtualRoute } from '../support/virtual-worker.js';

const quickLoop: VirtualRoute = () => ({ duration: 10 * US });

test('start returning -1 jumps to end: no loop run, the worker ends paused with its state dropped', async () => {
  const sim = await simulate({
    settings: { synced: true },
    routes: { start: () => ({ result: -1 }), loop: quickLoop, end: () => {} },
    stopAt: 5 * MS,
  });
  assert.deepEqual(
    sim.calls.map((c) => c.route),
    ['start', 'end'],
  );
  assert.equal(sim.machine.phase, 'ended');
  assert.equal(sim.machine.paused, true);
});

test('a start route that throws is taken as -1, and counted in errors', async () => {
  const sim = await simulate({
    settings: {},
    routes: {
      start: () => {
        throw new Error('boom');
      },
      loop: quickLoop,
      end: () => {},
    },
    stopAt: 5 * MS,
  });
  assert.deepEqual(
    sim.calls.map((c) => c.route),
    ['start', 'end'],
  );
  assert.equal(sim.machine.counters.errors, 1, 'errors counts errors of every route');
});

test('loop returning -1 jumps to end; vars live from start through the loop to end', async () => {
  const sim = await simulate({
    settings: {},
    routes: {
      start: (call) => {
        call.vars.count = 0;
      },
      loop: (call) => {
        call.vars.count = (call.vars.count as number) + 1;
        return { result: call.vars.count === 3 ? -1 : 0 };
      },
      end: (call) => {
        assert.equal(call.vars.count, 3);
      },
    },
    stopAt: 10 * MS,
  });
  assert.deepEqual(
    sim.calls.map((c) => c.route),
    ['start', 'loop', 'loop', 'loop', 'end'],
  );
  assert.equal(sim.machine.phase, 'ended');
});

test('a loop route that throws is counted and the loop goes on', async () => {
  const sim = await simulate({
    settings: {},
    routes: {
      loop: (call) => {
        if (call.tick % 2 === 1) throw new Error('odd tick');
      },
    },
    stopAt: 5 * MS + 1,
  });
  assert.equal(sim.runs('loop').length, 6);
  assert.equal(sim.machine.counters.errors, 3);
  assert.equal(sim.machine.counters.iterations, 6);
});

test('an end route that throws still ends the worker', async () => {
  const sim = await simulate({
    settings: {},
    routes: {
      start: () => ({ result: -1 }),
      loop: quickLoop,
      end: () => {
        throw new Error('end failed');
      },
    },
    stopAt: 5 * MS,
  });
  assert.equal(sim.machine.phase, 'ended');
});

test('pause takes effect at once, even mid-sleep; continue resumes on the same grid; ticks while paused are not due', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: 10 * MS },
    routes: { loop: quickLoop },
    commands: [
      { at: 12 * MS, command: 'pause' },
      { at: 47 * MS, command: 'continue' },
    ],
    stopAt: 71 * MS,
  });
  const pause = sim.answers.find((a) => a.command === 'pause')!;
  assert.equal(pause.at, 12 * MS, 'answered the moment it was sent, in the middle of a 10 ms sleep');
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / MS),
    [0, 10, 50, 60, 70],
  );
  assert.equal(sim.machine.counters.overruns, 0);
  const { nextTick, ticksNotDue } = sim.machine.schedule;
  assert.equal(sim.machine.counters.iterations + sim.machine.counters.overruns + ticksNotDue, nextTick);
});

test('basic: continue after a pause runs at the deadline it had, or at once if that has passed', async () => {
  const sim = await simulate({
    settings: { synced: false, intervalNs: 10 * MS },
    routes: { loop: () => {} },
    commands: [
      { at: 12 * MS, command: 'pause' },
      { at: 15 * MS, command: 'continue' },
      { at: 22 * MS, command: 'pause' },
      { at: 45 * MS, command: 'continue' },
    ],
    stopAt: 50 * MS,
  });
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / MS),
    [10, 20, 45],
  );
});

test('a command sent while a route runs takes effect when it returns', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { loop: (call) => ({ duration: call.tick === 2 ? 3 * MS : 0 }) },
    commands: [{ at: 3 * MS, command: 'pause' }],
    stopAt: 20 * MS,
  });
  assert.equal(sim.answers.find((a) => a.command === 'pause')!.at, 5 * MS);
  assert.equal(sim.runs('loop').length, 3);
});

test('continue on a running worker succeeds and changes nothing', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { loop: () => {} },
    commands: [{ at: 2_500 * US, command: 'continue' }],
    stopAt: 5 * MS + 1,
  });
  assert.equal(sim.answers.find((a) => a.command === 'continue')!.refusal, undefined);
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / MS),
    [0, 1, 2, 3, 4, 5],
  );
});

test('after end only start revives: pause is a no-op, continue/loop/end are refused naming start', async () => {
  const sim = await simulate({
    settings: {},
    routes: {
      start: (c) => void (c.vars.started = true),
      loop: (c) => ({ result: c.tick === 1 ? -1 : 0 }),
      end: () => {},
    },
    commands: [
      { at: 5 * MS, command: 'pause' },
      { at: 6 * MS, command: 'continue' },
      { at: 7 * MS, command: 'loop' },
      { at: 8 * MS, command: 'end' },
      { at: 9 * MS, command: 'start' },
    ],
    stopAt: 10 * MS + 500 * US,
  });
  const byCommand = Object.fromEntries(sim.answers.map((a) => [a.command, a]));
  assert.equal(byCommand.pause!.refusal, undefined);
  for (const refused of ['continue', 'loop', 'end']) {
    assert.match(byCommand[refused]!.refusal ?? '', /ended.*start/, `${refused} is refused`);
  }
  assert.equal(byCommand.start!.refusal, undefined);
  assert.equal(byCommand.start!.at, 9 * MS, 'start is answered once its route has run');
  // Revived: start ran again with fresh vars, then the loop from a new grid.
  const starts = sim.runs('start');
  assert.equal(starts.length, 2);
  assert.deepEqual(starts[1]!.varsBefore, {});
  assert.deepEqual(
    sim
      .runs('loop')
      .slice(2)
      .map((c) => c.at / MS),
    [9, 10],
  );
});

test('start on a running worker runs its end route first, then start with fresh state; it rejoins the grid at its next point', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: {
      start: (c) => {
        c.vars.fresh = true;
        return { duration: 200 * US };
      },
      loop: (c) => {
        c.vars.loops = ((c.vars.loops as number) ?? 0) + 1;
      },
      end: (c) => {
        assert.equal(c.vars.loops, 3, 'the end route sees what the worker held');
      },
    },
    commands: [{ at: 2_500 * US, command: 'start' }],
    stopAt: 5 * MS,
  });
  assert.deepEqual(
    sim.calls.map((c) => c.route),
    ['start', 'loop', 'loop', 'loop', 'end', 'start', 'loop', 'loop', 'end'],
  );
  assert.equal(sim.answers[0]!.at, 2_700 * US, 'answered after the start route ran');
  // The grid's origin is where the loop first began (200 us): the worker rejoins it at 3200 us.
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / US),
    [200, 1_200, 2_200, 3_200, 4_200],
  );
  assert.deepEqual(
    sim.runs('loop').map((c) => c.tick),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(sim.runs('start')[1]!.varsBefore, {}, 'vars were new at the second start');
});

test('start on a paused worker revives it', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { start: () => {}, loop: () => {} },
    commands: [
      { at: 1_500 * US, command: 'pause' },
      { at: 3_500 * US, command: 'start' },
    ],
    stopAt: 4_600 * US,
  });
  // The paused worker holds state, so start runs end first (there is none here), then start; the
  // loop rejoins the timer's grid at its next point (4000 us).
  assert.deepEqual(
    sim.calls.map((c) => `${c.route}@${c.at / US}`),
    ['start@0', 'loop@0', 'loop@1000', 'start@3500', 'loop@4000'],
  );
});

test('loop: resumes a paused worker, jumps a paused-in-end worker back into the loop, no-op when looping', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { loop: () => {} },
    commands: [
      { at: 1_500 * US, command: 'loop' },
      { at: 2_500 * US, command: 'pause' },
      { at: 4_200 * US, command: 'loop' },
    ],
    stopAt: 6 * MS + 1,
  });
  assert.ok(sim.answers.every((a) => a.refusal === undefined));
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / MS),
    [0, 1, 2, 5, 6],
  );
});

test('end: on a running worker runs end then pauses; on a paused one as well; answered after end ran', async () => {
  for (const pausedFirst of [false, true]) {
    const sim = await simulate({
      settings: { synced: true, intervalNs: MS },
      routes: { loop: () => {}, end: () => ({ duration: 300 * US }) },
      commands: [
        ...(pausedFirst ? [{ at: 1_200 * US, command: 'pause' as const }] : []),
        { at: 2_500 * US, command: 'end' },
      ],
      stopAt: 6 * MS,
    });
    const end = sim.answers.find((a) => a.command === 'end')!;
    assert.equal(end.at, 2_800 * US);
    assert.equal(sim.runs('end').length, 1);
    assert.equal(sim.machine.phase, 'ended');
    assert.equal(sim.runs('loop').length, pausedFirst ? 2 : 3);
  }
});

test('stop: a running worker runs end then exits; a paused or ended one exits without end', async () => {
  const running = await simulate({ settings: {}, routes: { loop: () => {}, end: () => {} }, stopAt: 2_500 * US });
  assert.deepEqual(
    running.runs('end').map((c) => c.at),
    [2_500 * US],
  );
  assert.equal(running.exitedAt, 2_500 * US);

  const paused = await simulate({
    settings: {},
    routes: { loop: () => {}, end: () => {} },
    commands: [{ at: 1_500 * US, command: 'pause' }],
    stopAt: 2_500 * US,
  });
  assert.equal(paused.runs('end').length, 0);

  const ended = await simulate({
    settings: {},
    routes: { start: () => ({ result: -1 }), loop: () => {}, end: () => {} },
    stopAt: 2_500 * US,
  });
  assert.equal(ended.runs('end').length, 1, 'only the end that -1 caused');
});

test('pause, continue, loop and end on a worker paused between start and loop', async () => {
  const sim = await simulate({
    settings: { synced: true, intervalNs: MS },
    routes: { start: () => ({ duration: MS }), loop: () => {} },
    commands: [
      { at: 500 * US, command: 'pause' },
      { at: 3 * MS, command: 'continue' },
    ],
    stopAt: 4 * MS + 1,
  });
  // The pause arrived during start: taken when start returned (1 ms); the loop then waited.
  assert.equal(sim.answers[0]!.at, MS);
  assert.deepEqual(
    sim.runs('loop').map((c) => c.at / MS),
    [3, 4],
  );
});

test('stop before the first start: the worker leaves without running end', async () => {
  const sim = await simulate({
    settings: {},
    routes: { start: () => {}, loop: () => {}, end: () => {} },
    stopAt: 0,
  });
  assert.deepEqual(sim.calls, []);
});
