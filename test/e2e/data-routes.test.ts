/**
 * The data plane end to end: the host pushes into a queue that routes on worker threads take
 * from (FIFO, every item once, strings and bytes as given), routes write a table the host reads,
 * ctx.data is the same frozen value in every route, and a timer's limit=N/W holds across its
 * workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PTimer } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/data-routes/routes.ts', import.meta.url);

test('queue: the host pushes, two workers take, every item arrives once in FIFO order; a table and ctx.data', async () => {
  const pt = await PTimer.create(
    {
      queue: ['name=calls;size=1000'],
      table: ['kpi=>size=4'],
      timer: [
        { name: 'drain', type: 'synced-slice', interval: '5ms', nworkers: 2, ntasks: 4, nslices: 2, loop: 'DRAIN' },
        { name: 'kpi', interval: '5ms', start: 'TABLE_START', loop: 'TABLE_LOOP' },
      ],
    },
    { routes, log: { level: 'silent' }, data: { gateways: ['gw1', 'gw2'] } },
  );
  const items: Array<{ key: string; value: string | Uint8Array; bytes: boolean; worker: number }> = [];
  const data: unknown[] = [];
  pt.on('message', (m) => {
    if (m.event === 'item') items.push({ ...(m.data as (typeof items)[number]), worker: m.worker });
    if (m.event === 'data') data.push(m.data);
  });
  const calls = pt.queue('calls'); // from construction on
  for (let i = 0; i < 200; i++)
    assert.equal(calls.push(i % 10 === 0 ? new Uint8Array([i % 256, 1, 2]) : `call-${i}`, `k${i}`), true);
  await pt.run();
  await waitFor('all items taken', () => items.length === 200, 15_000);
  const index = (key: string) => Number(key.slice(1));
  assert.deepEqual(
    items.map((x) => index(x.key)).sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => i),
    'each item once',
  );
  for (const w of [0, 1]) {
    const mine = items.filter((x) => x.worker === w).map((x) => index(x.key));
    assert.ok(mine.length > 0, `worker ${w} took items`);
    assert.deepEqual(
      mine,
      [...mine].sort((a, b) => a - b),
      `worker ${w} took them oldest first`,
    );
  }
  const byKey = new Map(items.map((x) => [x.key, x]));
  assert.equal(items.filter((x) => x.bytes).length, 20);
  assert.deepEqual([...(byKey.get('k10')!.value as Uint8Array)], [10, 1, 2]);
  assert.equal(byKey.get('k1')!.value, 'call-1');
  assert.equal(calls.size, 0);
  await waitFor('the table is written', () => pt.table('kpi').get('status') === 'up');
  assert.equal(typeof pt.table('kpi').get('gw1'), 'number');
  assert.deepEqual(data, [{ gateways: ['gw1', 'gw2'], frozen: 'yes' }]);
  assert.throws(() => pt.queue('nope'), /queue "nope" is not configured; the queues are: calls/);
  await pt.stop();
});

test('limit=10/1s across two workers: no more than 10 items taken in any sliding 1 s window', async () => {
  const pt = await PTimer.create(
    {
      queue: ['name=burst;size=1000'],
      timer: [{ name: 'limited', interval: '10ms', nworkers: 2, limit: '10/1s', loop: 'LIMITED' }],
    },
    { routes, log: { level: 'silent' } },
  );
  const takes: Array<{ n: number; at: number }> = [];
  pt.on('message', (m) => m.event === 'taken' && takes.push(m.data as (typeof takes)[number]));
  for (let i = 0; i < 100; i++) pt.queue('burst').push(`b${i}`);
  await pt.run();
  await waitFor('three windows of takes', () => takes.reduce((a, t) => a + t.n, 0) >= 30, 10_000);
  await pt.stop();
  const grants = takes.flatMap((t) => Array.from({ length: t.n }, () => t.at)).sort((a, b) => a - b);
  for (let i = 10; i < grants.length; i++) {
    assert.ok(
      grants[i]! - grants[i - 10]! >= 1e9 - 2e6,
      `items ${i - 10} and ${i} were taken ${(grants[i]! - grants[i - 10]!) / 1e6} ms apart`,
    );
  }
});
