/**
 * The supervisor with real threads (issue 16): stop during a reload leaves nothing running; a
 * sequence of commands has one outcome whatever the threads' timing (each judged against the
 * state the commands queued before it will leave, 100 rounds each); `end ... force` answers and
 * lists the worker ended. The decisions themselves are unit-tested on a virtual clock
 * (test/unit/supervisor.test.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer, type PTimerConfig } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/runtime/routes.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'ptimer-supervisor-'));
const running: PTimer[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

async function create(config: PTimerConfig): Promise<PTimer> {
  const pt = await PTimer.create(config, { routes, log: { level: 'silent' } });
  running.push(pt);
  return pt;
}

const workers = (pt: PTimer, timer: string) => pt.list().find((t) => t.name === timer)!.workers;

test('stop() right after reload(): the reload is cancelled or finished, and nothing it added is left running', async () => {
  const file = join(dir, 'r.config.mjs');
  const module = (names: string[]) =>
    `export default { timer: ${JSON.stringify(names.map((n) => `name=${n};interval=5ms`))}, loop: ${JSON.stringify(names.map((n) => `timer=${n};route=LOOP`))} };\nexport function LOOP() {}\n`;
  // Stop asked for at several points of the reload: at once, after a turn, after the config was read.
  for (const delayMs of [0, 0, 1, 5, 20]) {
    writeFileSync(file, module(['keep']));
    const pt = await PTimer.fromFile(file, { log: { level: 'silent' } });
    running.push(pt);
    await pt.run();
    writeFileSync(file, module(['keep', 'added']));
    const reloading = pt.reload();
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const stopped = pt.stop({ timeoutMs: 2_000 });
    const [reload, stop] = await Promise.allSettled([reloading, stopped]);
    assert.equal(stop.status, 'fulfilled');
    if (reload.status === 'rejected')
      assert.match((reload.reason as Error).message, /stop|stopping/, `delay ${delayMs}`);
    // Every worker of every timer the PTimer knows (the added one too, if the reload got that far) is ended: its thread is gone.
    for (const timer of pt.list()) {
      for (const w of timer.workers)
        assert.equal(w.state, 'ended', `delay ${delayMs}: ${timer.name} worker ${w.worker} is ${w.state}`);
    }
    await assert.rejects(pt.reload(), /not running|stopping/);
  }
});

/** The three sequences of issue 16, defect 9: each 100 rounds, each with one outcome. */
test('[start, loop] on an ended worker: both act, every round', async () => {
  const pt = await create({
    timer: [{ name: 'u', interval: '10ms', start: 'COUNT_START', loop: 'COUNT_LOOP', end: 'COUNT_END' }],
  });
  await pt.run();
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 100; round++) {
    await pt.end('u', 0);
    const settled = await Promise.allSettled([pt.start('u', 0), pt.loop('u', 0)]);
    const key = settled.map((s) => s.status).join(',');
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...outcomes], [['fulfilled,fulfilled', 100]]);
  assert.equal(workers(pt, 'u')[0]!.state, 'running');
});

test('[start, end] on an ended worker: it is left ended, every round', async () => {
  const pt = await create({
    timer: [{ name: 'u', interval: '10ms', start: 'COUNT_START', loop: 'COUNT_LOOP', end: 'COUNT_END' }],
  });
  await pt.run();
  await pt.end('u', 0);
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 100; round++) {
    const settled = await Promise.allSettled([pt.start('u', 0), pt.end('u', 0)]);
    const key = `${settled.map((s) => s.status).join(',')} -> ${workers(pt, 'u')[0]!.state}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...outcomes], [['fulfilled,fulfilled -> ended', 100]]);
});

test('[end(u, 1), continue(u)] with worker 0 paused: the continue is refused as a whole and worker 0 stays paused, every round', async () => {
  const pt = await create({
    timer: [{ name: 'u', interval: '10ms', nworkers: 2, start: 'COUNT_START', loop: 'COUNT_LOOP', end: 'COUNT_END' }],
  });
  await pt.run();
  await pt.pause('u', 0);
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 100; round++) {
    const settled = await Promise.allSettled([pt.end('u', 1), pt.continue('u')]);
    const [w0, w1] = workers(pt, 'u');
    const refusal =
      settled[1].status === 'rejected' ? /worker 1 has ended/.test((settled[1].reason as Error).message) : false;
    const key = `${settled.map((s) => s.status).join(',')} refused-for-1=${refusal} -> ${w0!.state},${w1!.state}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    await pt.start('u', 1);
  }
  assert.deepEqual([...outcomes], [['fulfilled,rejected refused-for-1=true -> paused,ended', 100]]);
});

test('end ... force answers and lists the worker ended, at once', async () => {
  const pt = await create({
    timer: [{ name: 'f', interval: '10ms', nworkers: 2, start: 'COUNT_START', loop: 'COUNT_LOOP', end: 'COUNT_END' }],
  });
  await pt.run();
  await waitFor('looping', () => workers(pt, 'f').every((w) => w.iterations > 2));
  const result = await pt.end('f', 0, { force: true });
  assert.equal(result.workers[0]!.state, 'ended');
  assert.equal(workers(pt, 'f')[0]!.state, 'ended');
  assert.equal(workers(pt, 'f')[0]!.route, 'none');
  // The worker that shared the thread came back running.
  await waitFor('worker 1 running again', () => workers(pt, 'f')[1]!.state === 'running');
  await assert.rejects(pt.continue('f', 0), /has ended/);
  await pt.stop();
});
