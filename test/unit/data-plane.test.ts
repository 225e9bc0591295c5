/**
 * DataPlane: built from a resolved config, names looked up with clear errors, a timer's
 * limit applied to its routes' take(), handles that survive a structured clone, and `data`
 * checked, copied and frozen. (In a worker thread: test/e2e/data-threads.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlane } from '../../src/data/data-plane.js';
import { SharedQueue } from '../../src/data/shared-queue.js';
import type { ResolvedConfig, ResolvedLimit, ResolvedTimer } from '../../src/config/types.js';

const timer = (name: string, limit: ResolvedLimit | null = null) => ({ name, limit }) as ResolvedTimer;

function resolved(): Pick<ResolvedConfig, 'queues' | 'tables' | 'timers'> {
  return {
    queues: [
      { name: 'calls', size: 100, maxBytes: 10_000, addmode: 0 },
      { name: 'jobs', size: 10, maxBytes: 1000, addmode: 1 },
    ],
    tables: [{ name: 'dst_kpi', size: 8, maxEntries: 100, autoexpire: 5 }],
    timers: [timer('shaper', { count: 3, windowNs: 1e9, text: '3/1s' }), timer('plain')],
  };
}

test('queues, tables and limiters by name; unknown names list the names there are', () => {
  const plane = DataPlane.create(resolved());
  assert.deepEqual(plane.queueNames, ['calls', 'jobs']);
  assert.deepEqual(plane.tableNames, ['dst_kpi']);
  assert.ok(plane.queue('calls') instanceof SharedQueue);
  assert.equal(plane.queue('jobs').addmode, 1);
  assert.equal(plane.table('dst_kpi').autoexpire, 5);
  assert.equal(plane.limiter('shaper')!.count, 3);
  assert.equal(plane.limiter('plain'), null);
  assert.throws(() => plane.queue('call'), /queue "call" is not configured; the queues are: calls, jobs/);
  assert.throws(() => plane.table('kpi'), /table "kpi" is not configured; the tables are: dst_kpi/);
  assert.throws(() => plane.limiter('shapr'), /timer "shapr" is not configured; the timers are: shaper, plain/);
  const empty = DataPlane.create({ queues: [], tables: [], timers: [] });
  assert.throws(
    () => empty.queue('calls'),
    /queue "calls" is not configured; no queues are configured \(the `queue` parameter defines them\)/,
  );
  assert.throws(
    () => DataPlane.create({ ...resolved(), queues: [resolved().queues[0]!, resolved().queues[0]!] }),
    /queue "calls" is defined twice/,
  );
});

test("a timer's routes take through its limiter; the host and other timers do not", () => {
  let now = 5e9;
  const plane = DataPlane.create(resolved(), { clock: () => now });
  for (let i = 0; i < 10; i++) plane.queue('calls').push(`c${i}`);
  const limited = plane.queueFor('shaper', 'calls');
  assert.notEqual(limited, plane.queue('calls'), 'a view through the limiter');
  assert.equal(plane.queueFor('shaper', 'calls'), limited, 'one view per timer and queue');
  assert.deepEqual(
    limited.take(5).map((i) => i.value),
    ['c0', 'c1', 'c2'],
    '3 per second',
  );
  assert.deepEqual(limited.take(5), []);
  assert.equal(limited.size, 7);
  assert.deepEqual(
    plane
      .queueFor('plain', 'calls')
      .take(2)
      .map((i) => i.value),
    ['c3', 'c4'],
    'a timer without a limit',
  );
  assert.equal(plane.queueFor('plain', 'calls'), plane.queue('calls'));
  now += 1e9;
  assert.deepEqual(
    limited.take(2).map((i) => i.value),
    ['c5', 'c6'],
  );
  assert.equal(limited.push('x', 'k'), true);
  assert.equal(limited.remove('k'), 1);
  assert.equal(limited.clear(), 3);
  assert.throws(() => plane.queueFor('nope', 'calls'), /timer "nope" is not configured/);
  assert.throws(() => plane.queueFor('shaper', 'nope'), /queue "nope" is not configured/);
});

test('handles survive a structured clone and attach to the same memory', () => {
  const plane = DataPlane.create(resolved(), { data: { gateways: ['gw1', 'gw2'], rate: 50 } });
  const handles = structuredClone(plane.handles());
  const worker = DataPlane.attach(handles);
  plane.queue('calls').push('from host', 'h');
  assert.deepEqual(
    worker
      .queue('calls')
      .take()
      .map(({ key, value }) => ({ key, value })),
    [{ key: 'h', value: 'from host' }],
  );
  worker.table('dst_kpi').set('gw1', 1);
  assert.equal(plane.table('dst_kpi').get('gw1'), 1);
  assert.equal(worker.limiter('shaper')!.acquire(3, 0), 3);
  assert.equal(plane.limiter('shaper')!.acquire(1, 0), 0, 'one window for every thread of the timer');
  assert.deepEqual(worker.data, { gateways: ['gw1', 'gw2'], rate: 50 });
  assert.throws(() => DataPlane.attach({} as never), /expected the handles of DataPlane.handles\(\)/);
});

test('data is copied and frozen: routes read it, none can change it', () => {
  const given = { gateways: [{ host: 'gw1', weight: 2 }], when: new Date(0), map: new Map([['a', 1]]) };
  const plane = DataPlane.create(resolved(), { data: given });
  const data = plane.data as typeof given;
  assert.notEqual(data, given, 'a copy');
  assert.ok(Object.isFrozen(data) && Object.isFrozen(data.gateways) && Object.isFrozen(data.gateways[0]));
  assert.throws(() => {
    'use strict';
    (data.gateways[0] as { weight: number }).weight = 3;
  }, TypeError);
  given.gateways[0]!.weight = 9;
  assert.equal(data.gateways[0]!.weight, 2, "the caller's later changes do not reach it");
  assert.equal(DataPlane.attach(plane.handles()).data !== undefined, true);
  assert.equal(DataPlane.create(resolved()).data, undefined);
  assert.throws(
    () => DataPlane.create(resolved(), { data: { f: () => 1 } }),
    /data: cannot be handed to the worker threads: .*; it must be structured-cloneable/,
  );
  assert.throws(
    () => DataPlane.create(resolved(), { data: 'x'.repeat(70 * 2 ** 20) }),
    /data: \d+ bytes serialized; at most 67108864/,
  );
});

test('reconcileTimers (a reload): an unchanged limit keeps its limiter and window, a changed or new one starts empty, a removed timer is unknown', () => {
  const plane = DataPlane.create(resolved());
  const before = plane.limiter('shaper')!;
  assert.equal(before.acquire(3, 0), 3, 'the window is full');
  plane.reconcileTimers([
    timer('shaper', { count: 3, windowNs: 1e9, text: '3/1s' }),
    timer('added', { count: 2, windowNs: 1e9, text: '2/1s' }),
  ]);
  assert.equal(plane.limiter('shaper'), before, 'same N/W: the same limiter');
  assert.equal(plane.limiter('shaper')!.acquire(1, 1), 0, 'its window went on');
  assert.equal(plane.limiter('added')!.acquire(5, 1), 2, 'the added timer has its own limit');
  assert.notEqual(
    plane.queueFor('added', 'calls'),
    plane.queue('calls'),
    "the added timer's routes reach the queues through its limit",
  );
  assert.throws(() => plane.limiter('plain'), /timer "plain" is not configured; the timers are: shaper, added/);
  plane.reconcileTimers([timer('shaper', { count: 5, windowNs: 1e9, text: '5/1s' })]);
  assert.notEqual(plane.limiter('shaper'), before, 'a changed limit: a new limiter');
  assert.equal(plane.limiter('shaper')!.acquire(9, 2), 5, 'with the new N, its window empty');
  const attached = DataPlane.attach(structuredClone(plane.handles()));
  assert.equal(
    attached.limiter('shaper')!.acquire(1, 3),
    0,
    "a thread started after the reload shares the new limiter's window",
  );
});
