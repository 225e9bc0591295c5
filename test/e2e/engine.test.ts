/**
 * The engine with real worker threads: state kept from start to end, ctx.ptimer rules,
 * every control command, a dying worker's restart, and stop() running end routes.
 * Real time with generous bounds; every wait is on a condition.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer, ControlError, type PTimerConfig } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/engine/routes.ts', import.meta.url);
const running: PTimer[] = [];

interface Message {
  timer: string;
  worker: number;
  event: string;
  data: Record<string, unknown>;
}

async function launch(config: PTimerConfig): Promise<{ pt: PTimer; messages: Message[] }> {
  const pt = await PTimer.create(config, { routes, log: { level: 'silent' } });
  const messages: Message[] = [];
  pt.on('message', (m) => messages.push(m as Message));
  running.push(pt);
  await pt.run();
  return { pt, messages };
}

function tempFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'ptimer-test-')), 'notes.txt');
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((pt) => pt.stop({ timeoutMs: 2_000 })));
  delete process.env.PTIMER_TEST_FILE;
});

const worker0 = (pt: PTimer, timer = 't') => pt.list().find((t) => t.name === timer)!.workers[0]!;

test('vars and the faked message live from start through the loop to end', async () => {
  const { pt, messages } = await launch({
    timer: [{ name: 't', interval: '1ms', start: 'KEEP_START', loop: 'KEEP_LOOP', end: 'KEEP_END' }],
  });
  await waitFor('a few loop runs', () => worker0(pt).iterations >= 5);
  await pt.end('t');
  // Messages travel by the thread's message port, so they may land just after the answer.
  const started = await waitFor('started', () => messages.find((m) => m.event === 'started'));
  const ended = await waitFor('ended', () => messages.find((m) => m.event === 'ended'));
  assert.equal(started.data.method, 'OPTIONS');
  assert.equal(ended.data.id, started.data.id, 'the same vars at end as at start');
  assert.equal(ended.data.call, started.data.call, 'the same message at end as at start');
  assert.ok((ended.data.loops as number) >= 5);
  assert.deepEqual({ route: worker0(pt).route, paused: worker0(pt).paused }, { route: 'none', paused: true });

  // start revives it with new vars and a new message.
  await pt.start('t');
  const restarted = await waitFor('second start', () => {
    const all = messages.filter((m) => m.event === 'started');
    return all.length === 2 && all;
  });
  assert.notEqual(restarted[1]!.data.id, started.data.id);
  assert.notEqual(restarted[1]!.data.call, started.data.call);
  assert.equal(worker0(pt).route, 'loop');
});

test('ctx.ptimer: writable in start only, each write checked; interval paces this worker', async () => {
  const { pt, messages } = await launch({
    timer: [
      {
        name: 't',
        type: 'synced-slice',
        interval: '1s',
        ntasks: 10,
        nslices: 2,
        start: 'RULES_START',
        loop: 'RULES_LOOP',
      },
    ],
  });
  const start = await waitFor('start report', () => messages.find((m) => m.event === 'start-rules'));
  const loop = await waitFor('loop report', () => messages.find((m) => m.event === 'loop-rules'));
  const r = start.data.results as Record<string, string>;
  assert.match(r.name!, /ptimer\.name is read-only/);
  assert.match(r.worker!, /ptimer\.worker is read-only/);
  assert.match(r.intervalBad!, /"10m".*m.*not a unit|10ms/s);
  assert.match(r.ntasksNegative!, /ptimer\.ntasks = -1 is not allowed: expected an integer from 0 to 1000000000$/);
  // A route is bounded as the config is (config/limits.ts): past 2^53 tasksForSlice would lose precision.
  assert.match(
    r.ntasksPastConfig!,
    /ptimer\.ntasks = 2147483647 is not allowed: expected an integer from 0 to 1000000000$/,
  );
  assert.match(
    r.nslicesPastConfig!,
    /ptimer\.nslices = 2147483647 is not allowed: expected an integer from 1 to 1000000/,
  );
  assert.equal(r.ntasks, 'ok');
  assert.match(r.tasksTooMany!, /ptimer\.tasks = 21 is not allowed: expected an integer from 0 to 20/);
  assert.equal(r.nslices, 'ok');
  assert.match(r.sliceEqualsNslices!, /ptimer\.slice = 4 is not allowed: expected an integer from 0 to 3/);
  assert.equal(r.slice, 'ok');
  assert.equal(r.interval, 'ok');
  assert.deepEqual(start.data.after, { interval: '2ms', ntasks: 20, tasks: 5, nslices: 4, slice: 3 });
  // The first loop run sees the start slice; writes in loop are refused.
  assert.match(
    loop.data.ntasks as string,
    /ptimer\.ntasks can be written in the start route only \(this is the loop route\)/,
  );
  assert.equal(loop.data.slice, 3);
  assert.equal(loop.data.tasks, 5);
  assert.equal(loop.data.pid, process.pid);
  assert.equal(loop.data.type, 3);
  // The worker paces itself at 2 ms, not the timer's 1 s.
  assert.equal(worker0(pt).interval, '2ms');
  await waitFor('runs at 2 ms', () => worker0(pt).iterations >= 10, 5_000);
});

test('every control command, each resolving once the workers have acted', async () => {
  const { pt, messages } = await launch({
    timer: [{ name: 't', interval: '1ms', nworkers: 2, start: 'KEEP_START', loop: 'KEEP_LOOP', end: 'KEEP_END' }],
  });
  const workers = () => pt.list()[0]!.workers;

  await pt.pause('t', 1);
  assert.deepEqual(
    workers().map((w) => w.paused),
    [false, true],
  );
  const frozen = workers()[1]!.iterations;
  await waitFor('worker 0 runs on', () => workers()[0]!.iterations > frozen + 20);
  assert.equal(workers()[1]!.iterations, frozen, 'a paused worker does not loop');

  await pt.continue('t', 1);
  assert.equal(workers()[1]!.paused, false);
  await waitFor('worker 1 loops again', () => workers()[1]!.iterations > frozen);
  await pt.continue('t'); // on running workers: a no-op that succeeds

  await pt.end('t');
  assert.deepEqual(
    workers().map((w) => [w.route, w.paused]),
    [
      ['none', true],
      ['none', true],
    ],
  );
  await waitFor('both end routes reported', () => messages.filter((m) => m.event === 'ended').length === 2);
  for (const refused of ['continue', 'loop', 'end'] as const) {
    await assert.rejects(
      pt[refused]('t', 0),
      (e: ControlError) => e.code === 400 && /ended; only start runs it again/.test(e.message),
    );
  }
  await pt.pause('t'); // on ended workers: succeeds, changes nothing
  assert.deepEqual(
    workers().map((w) => w.route),
    ['none', 'none'],
  );

  await pt.start('t', 0);
  assert.deepEqual(
    workers().map((w) => w.route),
    ['loop', 'none'],
  );
  await pt.pause('t', 0);
  await pt.loop('t', 0);
  assert.deepEqual([workers()[0]!.route, workers()[0]!.paused], ['loop', false]);
  await pt.start('t');
  assert.deepEqual(
    workers().map((w) => [w.route, w.paused]),
    [
      ['loop', false],
      ['loop', false],
    ],
  );
});

test('bad control arguments are refused with a clear error and change nothing', async () => {
  const { pt } = await launch({ timer: [{ name: 't', interval: '1ms', nworkers: 2, loop: 'COUNT_LOOP' }] });
  // run() resolves once every worker is in its first route; wait until both loop.
  await waitFor('both workers looping', () =>
    pt.list()[0]!.workers.every((w) => w.route === 'loop' && w.iterations > 0),
  );
  await assert.rejects(
    pt.pause('nope'),
    (e: ControlError) => e.code === 404 && /unknown timer "nope"; timers: t/.test(e.message),
  );
  for (const bad of [2, -1, 1.5, '0' as unknown as number, Number.NaN]) {
    await assert.rejects(
      pt.pause('t', bad),
      (e: ControlError) => e.code === 400 && /expected an integer from 0 to 1/.test(e.message),
    );
  }
  await pt.pause('t', 0);
  await assert.rejects(pt.end('t', 5));
  assert.deepEqual(
    pt.list()[0]!.workers.map((w) => [w.paused, w.route]),
    [
      [true, 'loop'],
      [false, 'loop'],
    ],
  );
  // continue for all workers when one has ended is refused as a whole.
  await pt.end('t', 1);
  await assert.rejects(pt.continue('t'), /worker 1 has ended/);
  assert.equal(pt.list()[0]!.workers[0]!.paused, true, 'worker 0 was not continued');
});

test('pausing a timer whose interval is 10 s takes effect within 50 ms, mid-sleep', async () => {
  const { pt } = await launch({ timer: [{ name: 'slow', type: 'sync', interval: '10s', loop: 'COUNT_LOOP' }] });
  await waitFor('the first run', () => worker0(pt, 'slow').iterations === 1);
  const began = performance.now();
  await pt.pause('slow');
  const tookMs = performance.now() - began;
  assert.ok(tookMs < 50, `pause took ${tookMs.toFixed(1)} ms`);
  assert.equal(worker0(pt, 'slow').paused, true);
  assert.equal(worker0(pt, 'slow').iterations, 1, 'no extra run before pausing');
});

test('a route error in loop is counted and reported, and the loop goes on', async () => {
  const { pt } = await launch({ timer: [{ name: 't', interval: '1ms', loop: 'THROWING_LOOP' }] });
  const reported: unknown[] = [];
  pt.on('routeError', (e) => reported.push(e));
  await waitFor('errors counted', () => worker0(pt).errors >= 5 && worker0(pt).iterations >= 10);
  await waitFor('routeError events', () => reported.length > 0);
  assert.ok(Math.abs(worker0(pt).errors - worker0(pt).iterations / 2) <= 2);
  assert.ok(worker0(pt).spin > 0 && worker0(pt).spin <= 200, `auto spin within its cap: ${worker0(pt).spin} us`);
});

test('async routes are awaited, and -1 from an async loop jumps to end', async () => {
  const { pt, messages } = await launch({
    timer: [{ name: 't', interval: '1ms', loop: 'ASYNC_LOOP', end: 'ASYNC_END' }],
  });
  const ended = await waitFor('async end', () => messages.find((m) => m.event === 'async-ended'));
  assert.equal(ended.data.n, 3);
  await waitFor('ended', () => worker0(pt).route === 'none');
  assert.equal(worker0(pt).iterations, 3);
});

test("between runs the worker's event loop gets its turn: timers, promises and sockets work at 1 ms", async () => {
  const { messages } = await launch({ timer: [{ name: 't', interval: '1ms', start: 'IO_START', loop: 'IO_LOOP' }] });
  const io = await waitFor('timer, promise and socket activity in the worker', () =>
    messages.find((m) => m.event === 'io'),
  );
  assert.ok((io.data.bytes as number) > 5);
});

test("ctx.deadline: each loop run's deadline on the grid, on process.hrtime's scale", async () => {
  const { messages } = await launch({ timer: [{ name: 't', interval: '2ms', loop: 'DEADLINE_LOOP' }] });
  const seen = (await waitFor('20 runs', () => messages.find((m) => m.event === 'deadlines'))).data as unknown as Array<
    [number, number, number]
  >;
  const [tick0, deadline0] = seen[0]!;
  for (const [tick, deadline, startedAt] of seen) {
    assert.ok(Math.abs(deadline - (deadline0 + (tick - tick0) * 2e6)) < 1, 'on the grid, to the ns');
    const lateNs = startedAt - deadline;
    assert.ok(lateNs >= 0 && lateNs < 1e9, `began ${lateNs} ns after its deadline`);
  }
});

for (const [how, loop] of [
  ['process.exit in a route', 'DIE_BY_EXIT_LOOP'],
  ['an uncaught error', 'DIE_BY_THROW_LOOP'],
] as const) {
  test(`a worker thread that dies (${how}) is reported and started again from start`, async () => {
    process.env.PTIMER_TEST_FILE = tempFile();
    const exits: Array<{ worker: number; error: Error }> = [];
    const pt = await PTimer.create(
      { timer: [{ name: 't', interval: '1ms', start: 'DIE_START', loop }] },
      { routes, log: { level: 'silent' } },
    );
    running.push(pt);
    const messages: Message[] = [];
    pt.on('message', (m) => messages.push(m as Message));
    pt.on('workerExit', (e) => exits.push(e));
    await pt.run();
    await waitFor(
      'the restart',
      () => worker0(pt).restarts === 1 && messages.filter((m) => m.event === 'started').length === 2,
    );
    await waitFor('looping again', () => worker0(pt).iterations > 10);
    assert.equal(exits.length, 1);
    assert.ok(existsSync(process.env.PTIMER_TEST_FILE));
    if (how === 'an uncaught error') assert.match(exits[0]!.error.message, /uncaught in a timer callback/);
  });
}

test('stop() runs the end route of every worker that is not paused, then the threads exit', async () => {
  process.env.PTIMER_TEST_FILE = tempFile();
  const { pt } = await launch({
    timer: [
      { name: 'a', interval: '1ms', nworkers: 2, start: 'KEEP_START', loop: 'KEEP_LOOP', end: 'KEEP_END' },
      { name: 'b', interval: '5s', start: 'KEEP_START', loop: 'KEEP_LOOP', end: 'KEEP_END' },
    ],
  });
  await pt.pause('a', 1);
  const result = await pt.stop();
  assert.deepEqual(result.terminated, []);
  const lines = readFileSync(process.env.PTIMER_TEST_FILE, 'utf8').trim().split('\n').sort();
  assert.deepEqual(lines, ['end a 0', 'end b 0']);
  await assert.rejects(pt.pause('a'), (e: ControlError) => e.code === 500);
});

test('stop() bounds its wait: a worker stuck in its end route is terminated and named', async () => {
  const { pt } = await launch({ timer: [{ name: 'stuck', interval: '1ms', loop: 'COUNT_LOOP', end: 'STUCK_END' }] });
  const began = Date.now();
  const result = await pt.stop({ timeoutMs: 300 });
  assert.deepEqual(result.terminated, [{ timer: 'stuck', worker: 0 }]);
  assert.ok(Date.now() - began < 5_000);
});
