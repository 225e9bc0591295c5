/**
 * Commands are never lost, merged or faked (real threads): back to back, during start-up,
 * right after a crash; a paused worker stays paused through its thread's death; many timers on
 * one thread; one grid per timer across threads.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer, type PTimerConfig } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/runtime/routes.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'ptimer-runtime-'));
const running: PTimer[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

async function create(config: PTimerConfig): Promise<{ pt: PTimer; events: Array<{ event: string; worker: number }> }> {
  const pt = await PTimer.create(config, { routes, log: { level: 'silent' } });
  running.push(pt);
  const events: Array<{ event: string; worker: number }> = [];
  pt.on('message', (m) => events.push({ event: m.event, worker: m.worker }));
  return { pt, events };
}

const worker = (pt: PTimer, timer: string, index = 0) => pt.list().find((t) => t.name === timer)!.workers[index]!;

for (const interval of ['10ms', '5s']) {
  test(`100 x Promise.all([end, start]) at ${interval}: end and start routes each run exactly 100 times`, async () => {
    const { pt, events } = await create({
      timer: [{ name: 't', interval, start: 'COUNT_START', loop: 'COUNT_LOOP', end: 'COUNT_END' }],
    });
    await pt.run();
    await waitFor('the first start', () => events.some((e) => e.event === 'start'));
    for (let i = 0; i < 100; i++) {
      const [ended, started] = await Promise.all([pt.end('t'), pt.start('t')]);
      assert.equal(ended.workers[0]!.outcome, 'done');
      assert.equal(started.workers[0]!.outcome, 'done');
    }
    // Every promise above resolved after its own route ran, so the events are all in.
    await waitFor('all events', () => events.length === 201);
    assert.equal(events.filter((e) => e.event === 'start').length, 101, 'the first start and 100 more');
    assert.equal(events.filter((e) => e.event === 'end').length, 100);
    assert.deepEqual(
      events.slice(1).map((e) => e.event),
      Array.from({ length: 100 }, () => ['end', 'start']).flat(),
      'in the order they were sent',
    );
    await pt.stop();
  });
}

test('a pause sent during run() takes effect once the worker is up; list() answers at once while threads boot', async () => {
  const { pt } = await create({ timer: [{ name: 't', interval: '5ms', loop: 'COUNT_LOOP', nworkers: 2 }] });
  const starting = pt.run();
  const booting = pt.list()[0]!.workers.map((w) => w.state);
  assert.deepEqual(booting, ['booting', 'booting']);
  const paused = pt.pause('t', 1);
  await starting;
  const result = await paused;
  assert.equal(result.workers[0]!.state, 'paused');
  const w = worker(pt, 't', 1);
  assert.equal(w.paused, true);
  await waitFor('worker 0 loops', () => worker(pt, 't', 0).iterations > 5);
  assert.ok(worker(pt, 't', 1).iterations <= 1, 'the paused worker did not loop on');
  await pt.stop();
});

test('a paused worker whose thread dies stays paused; a pause sent right after the crash takes effect', async () => {
  const crash = join(dir, 'crash-once');
  process.env.PTIMER_CRASH_ONCE = crash;
  const { pt } = await create({
    timer: [
      { name: 'crasher', interval: '2ms', loop: 'CRASH_ONCE_LOOP', thread: 'shared' },
      { name: 'witness', interval: '2ms', loop: 'COUNT_LOOP', thread: 'shared' },
    ],
  });
  await pt.run();
  await pt.pause('witness');
  const exited = new Promise<void>((resolve) => pt.once('workerExit', () => resolve()));
  writeFileSync(crash, '');
  await exited;
  const pausedAfterCrash = await pt.pause('crasher'); // held while the thread restarts, then applied
  assert.equal(pausedAfterCrash.workers[0]!.state, 'paused');
  const witness = worker(pt, 'witness');
  assert.equal(witness.state, 'paused', 'the operator paused it before the crash: it stays paused');
  assert.equal(witness.restarts, 1);
  assert.equal(worker(pt, 'crasher').restarts, 1);
  const resumed = await pt.continue('witness');
  assert.equal(resumed.workers[0]!.state, 'running');
  await waitFor('the witness loops again', () => worker(pt, 'witness').iterations > 3);
  await pt.stop();
});

test('a command to several workers changes none if one refuses', async () => {
  const { pt } = await create({ timer: [{ name: 't', interval: '5ms', loop: 'COUNT_LOOP', nworkers: 3 }] });
  await pt.run();
  await pt.pause('t', 0);
  await pt.end('t', 2);
  await assert.rejects(
    pt.continue('t'),
    (e: Error & { code?: number }) => e.code === 400 && /worker 2 has ended/.test(e.message),
  );
  assert.equal(worker(pt, 't', 0).paused, true, 'worker 0 was not continued');
  await pt.stop();
});

test('many timers share the pool: 60 timers on 2 threads, every one loops on its own grid', async () => {
  const timers = Array.from({ length: 60 }, (_, i) => ({ name: `t${i}`, interval: '20ms', loop: 'COUNT_LOOP' }));
  const { pt } = await create({ default_threads: 2, timer: timers });
  await pt.run();
  const threads = new Set(pt.list().map((t) => t.workers[0]!.thread));
  assert.deepEqual([...threads].sort(), ['pool-0', 'pool-1']);
  await waitFor('every timer looping', () => pt.list().every((t) => t.workers[0]!.iterations >= 3));
  for (const t of pt.list()) {
    const w = t.workers[0]!;
    assert.equal(w.state, 'running');
  }
  await pt.stop();
});
