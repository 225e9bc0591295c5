/**
 * Faults, with real threads: a thread that never comes up, a route that kills its thread on
 * every start, a route stuck in a loop, a start route that throws. Each is detected, reported,
 * and recovered or marked failed, and the workers beside it carry on.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer, type PTimerConfig } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/runtime/routes.ts', import.meta.url);
const hanging = new URL('../fixtures/runtime/hang-import.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'ptimer-faults-'));
const running: PTimer[] = [];
after(async () => {
  delete process.env.PTIMER_HANG_IMPORT;
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

async function create(config: PTimerConfig, routesModule: URL = routes): Promise<PTimer> {
  const pt = await PTimer.create(config, { routes: routesModule, log: { level: 'silent' } });
  running.push(pt);
  return pt;
}
const worker = (pt: PTimer, timer: string, index = 0) => pt.list().find((t) => t.name === timer)!.workers[index]!;

test('stop() during start-up returns within 3 s, and run() rejects', async () => {
  process.env.PTIMER_HANG_IMPORT = '1';
  const pt = await create({ timer: [{ name: 't', interval: '10ms', loop: 'LOOP' }] }, hanging);
  const starting = pt.run();
  const began = Date.now();
  await pt.stop();
  assert.ok(Date.now() - began < 3_000, `stop took ${Date.now() - began} ms`);
  await assert.rejects(starting, /stopped before its workers started|could not start/);
  delete process.env.PTIMER_HANG_IMPORT;
});

test('run() rejects, naming the worker, when its thread does not come up within startup_timeout', async () => {
  process.env.PTIMER_HANG_IMPORT = '1';
  const pt = await create(
    { startup_timeout: '400ms', timer: [{ name: 'slow', interval: '10ms', loop: 'LOOP' }] },
    hanging,
  );
  await assert.rejects(
    pt.run(),
    (e: Error) => /did not come up within 400 ms/.test(e.message) && /worker 0 of "slow"/.test(e.message),
  );
  assert.equal(pt.list()[0]!.workers[0]!.state, 'failed', 'listed as failed, not running');
  delete process.env.PTIMER_HANG_IMPORT;
});

test('a route that kills its thread on every start is marked failed after restart_limit; its neighbour carries on; start revives it', async () => {
  const crash = join(dir, 'crash-start');
  process.env.PTIMER_CRASH_START = crash;
  const pt = await create({
    restart_limit: '3/60s',
    timer: [
      { name: 'bad', interval: '5ms', start: 'CRASH_START', loop: 'COUNT_LOOP', thread: 'g' },
      { name: 'neighbour', interval: '5ms', loop: 'COUNT_LOOP', thread: 'g' },
    ],
  });
  await pt.run();
  writeFileSync(crash, '');
  // The start that sets it off is carried out and its thread dies under it: it says so.
  await assert.rejects(pt.start('bad'), /died while acting on start/);
  await waitFor('bad failed', () => worker(pt, 'bad').state === 'failed', 15_000);
  assert.equal(worker(pt, 'bad').restarts, 3);
  // The deaths were charged to the worker in a route (bad's start), so the neighbour is not failed.
  const before = worker(pt, 'neighbour').iterations;
  await waitFor(
    'the neighbour loops on',
    () => worker(pt, 'neighbour').state === 'running' && worker(pt, 'neighbour').iterations > before + 5,
  );
  await assert.rejects(
    pt.continue('bad'),
    (e: Error & { code?: number }) => e.code === 400 && /has failed/.test(e.message) && /only start/.test(e.message),
  );
  unlinkSync(crash);
  const revived = await pt.start('bad');
  assert.equal(revived.workers[0]!.state, 'running');
  await waitFor('bad loops', () => worker(pt, 'bad').iterations > 3);
  await pt.stop();
});

test('a worker stuck in a route: list shows stuck, a command rejects after command_timeout saying why, force start recovers and names who shared the thread', async () => {
  const spin = join(dir, 'spin');
  process.env.PTIMER_SPIN = spin;
  const pt = await create({
    command_timeout: '300ms',
    stuck_after: 1,
    timer: [
      { name: 'stuck', interval: '5ms', loop: 'SPIN_LOOP', thread: 'g2' },
      { name: 'beside', interval: '5ms', loop: 'COUNT_LOOP', thread: 'g2' },
    ],
  });
  await pt.run();
  writeFileSync(spin, '');
  await waitFor('stuck', () => worker(pt, 'stuck').state === 'stuck');
  await assert.rejects(
    pt.pause('stuck'),
    (e: Error & { code?: number }) =>
      e.code === 500 && /worker 0 of "stuck" has been in its loop route for \d+ ms/.test(e.message),
  );
  await assert.rejects(
    pt.pause('beside'),
    /waits for its thread, which worker 0 of "stuck" has held in its loop route/,
  );
  unlinkSync(spin);
  const forced = await pt.start('stuck', 0, { force: true });
  assert.equal(forced.force, true);
  assert.deepEqual(forced.restarted, [{ timer: 'beside', worker: 0 }]);
  assert.equal(forced.workers[0]!.state, 'running');
  await waitFor(
    'both loop again',
    () => worker(pt, 'stuck').iterations > 3 && worker(pt, 'beside').state === 'running',
  );
  // The pause that timed out was withdrawn, not carried out later.
  assert.equal(worker(pt, 'stuck').paused, false);
  assert.equal(worker(pt, 'beside').paused, false);
  await pt.stop();
});

test('run() rejects, naming the workers and the error, when a start route kills its thread before the workers are up', async () => {
  const crash = join(dir, 'crash-first-start');
  process.env.PTIMER_CRASH_START = crash;
  writeFileSync(crash, '');
  const pt = await create({ timer: [{ name: 'early', interval: '5ms', start: 'CRASH_START', loop: 'COUNT_LOOP' }] });
  await assert.rejects(
    pt.run(),
    (e: Error) =>
      /failed to start: the thread exited with code 4/.test(e.message) && /worker 0 of "early"/.test(e.message),
  );
  unlinkSync(crash);
});

test('a start route that throws makes that start reject with its message (500) and counts in errors', async () => {
  const fail = join(dir, 'start-throws');
  process.env.PTIMER_START_THROWS = fail;
  const pt = await create({ timer: [{ name: 't', interval: '10ms', start: 'THROWING_START', loop: 'COUNT_LOOP' }] });
  await pt.run();
  writeFileSync(fail, '');
  await assert.rejects(
    pt.start('t'),
    (e: Error & { code?: number }) => e.code === 500 && /the task list could not be fetched/.test(e.message),
  );
  assert.equal(worker(pt, 't').errors, 1);
  assert.equal(worker(pt, 't').state, 'ended', 'a start that fails ends the worker, as -1 does');
  unlinkSync(fail);
  await pt.start('t');
  assert.equal(worker(pt, 't').state, 'running');
  await pt.stop();
});
