/**
 * Issue 17, items 3-5 without threads, on a virtual clock:
 * - named limiters: the `limiter` parameter (string and object), a timer's `limit=NAME`, the
 *   errors (unknown name with a did-you-mean); timers naming one limiter share one window, a
 *   reload keeps it when its N/W is unchanged; granted and refused counts;
 * - item age: pushedAt on every item, `maxage` drops older items at take time, hands them to
 *   the host's listener (or only counts them), and the queue counts pushes, takes and refusals;
 * - the operator methods (mqueue.*, htable.*, ptimer.push, ptimer.queues) through the RPC
 *   dispatcher over a DataPlane: Kamailio's result shapes, the errors, and a bounded dump.
 * The same over threads, the real transports and Kamailio's tools: test/e2e/queues-tables-tools.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/resolve.js';
import { DataPlane } from '../../src/data/data-plane.js';
import { SharedQueue, type QueueItem } from '../../src/data/shared-queue.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

const loop = (name: string, limit?: string) => ({ name, interval: '100ms', loop: 'LOOP', ...(limit ? { limit } : {}) });

test("limiter: string and object forms; limit=NAME takes the limiter's N/W; limit=N/W stays a window of its own", () => {
  const r = resolveConfig({
    limiter: ['name=carrier1;limit=50/1s', { name: 'carrier2', limit: '8/100ms' }],
    timer: [loop('normal', 'carrier1'), loop('holiday', 'carrier1'), loop('own', '20/1s'), loop('free')],
  });
  assert.deepEqual(r.limiters, [
    { name: 'carrier1', count: 50, windowNs: 1e9, text: '50/1s' },
    { name: 'carrier2', count: 8, windowNs: 1e8, text: '8/100ms' },
  ]);
  const limits = Object.fromEntries(r.timers.map((t) => [t.name, t.limit]));
  assert.deepEqual(limits.normal, { count: 50, windowNs: 1e9, text: '50/1s', limiter: 'carrier1' });
  assert.deepEqual(limits.holiday, limits.normal);
  assert.deepEqual(limits.own, { count: 20, windowNs: 1e9, text: '20/1s' });
  assert.equal(limits.free, null);
  assert.equal(resolveConfig({ timer: [loop('t')] }).limiters, undefined, 'no limiters: the key is absent');
});

test('limiter errors: unknown name (did you mean), duplicates, a missing or bad limit, unknown keys', () => {
  const bad = (config: object, re: RegExp) => assert.throws(() => resolveConfig(config), re);
  bad(
    { limiter: ['name=carrier1;limit=50/1s'], timer: [loop('t', 'carier1')] },
    /timer "t": limit: "carier1" is not valid; expected N\/W \(e\.g\. 50\/1s\) or the name of a limiter; did you mean "carrier1"\? the limiters are carrier1$/,
  );
  bad(
    { timer: [loop('t', 'gold')] },
    /limit: "gold" is not valid; .*no limiters are defined \(limiter: \["name=NAME;limit=N\/W"\] defines one\)/,
  );
  bad(
    { limiter: ['name=a;limit=1/1s', 'name=a;limit=2/1s'] },
    /limiter\[1\]: name: "a" is not valid; limiter "a" is already defined \(limiter\[0\]\)/,
  );
  bad(
    { limiter: ['name=a'] },
    /limiter "a": "name=a" is not valid; a limiter needs its limit: limit=N\/W in a string, limit in an object \(e\.g\. 50\/1s\)$/,
  );
  bad({ limiter: ['name=a;limit=50'] }, /limiter "a": limit: "50" is not valid; expected N\/W/);
  bad({ limiter: ['name=a;limit=5/1s;burst=3'] }, /unknown key "burst": the keys are name and limit/);
  bad({ limiter: [{ name: 'a', limit: '5/1s', rate: 1 }] }, /"rate"/);
  bad({ limiter: [42] }, /expected a limiter string "name=NAME;limit=N\/W"/);
  bad({ timer: [loop('t', '50')] }, /timer "t": limit: "50" is not valid; expected N\/W: N items/);
});

function plane(clock: () => number) {
  const resolved = resolveConfig({
    queue: ['name=calls;size=100'],
    limiter: ['name=carrier1;limit=4/1s'],
    timer: [loop('normal', 'carrier1'), loop('holiday', 'carrier1'), loop('own', '4/1s')],
  });
  return { resolved, plane: DataPlane.create(resolved, { clock }) };
}

test("timers naming one limiter share one window across them; a timer's own limit is separate; granted and refused are counted", () => {
  let now = 10e9;
  const { plane: p } = plane(() => now);
  for (let i = 0; i < 20; i++) p.queue('calls').push(`c${i}`);
  assert.equal(p.limiter('normal'), p.limiter('holiday'), 'one limiter');
  assert.notEqual(p.limiter('own'), p.limiter('normal'));
  assert.equal(p.queueFor('normal', 'calls').take(3).length, 3);
  assert.equal(p.queueFor('holiday', 'calls').take(3).length, 1, 'the other timer finds 3 of the 4 used');
  assert.equal(p.queueFor('own', 'calls').take(3).length, 3, 'a timer with its own N/W is not charged');
  now += 0.5e9;
  assert.equal(p.queueFor('holiday', 'calls').take(2).length, 0, 'still within the window');
  now += 0.5e9;
  assert.equal(p.queueFor('holiday', 'calls').take(5).length, 4, 'a window later');
  const stats = p.limiterStats();
  assert.deepEqual(stats[0], {
    name: 'carrier1',
    kind: 'limiter',
    limit: '4/1s',
    timers: ['normal', 'holiday'],
    granted: 8,
    refused: 2 + 2 + 1,
  });
  assert.deepEqual(stats[1], { name: 'own', kind: 'timer', limit: '4/1s', timers: ['own'], granted: 3, refused: 0 });
  // A worker thread attaches the same window (and the same refusals count).
  const attached = DataPlane.attach(structuredClone(p.handles()), () => now);
  assert.equal(attached.queueFor('normal', 'calls').take(1).length, 0);
  assert.equal(p.limiterStats()[0]!.refused, 6);
});

test("a reload keeps a named limiter's window when its N/W did not change, and starts a new one when it did", () => {
  const now = 10e9;
  const { resolved, plane: p } = plane(() => now);
  const before = p.limiter('normal')!;
  assert.equal(before.acquire(4, now), 4);
  const same = resolveConfig({
    limiter: ['name=carrier1;limit=4/1s'],
    timer: [loop('holiday', 'carrier1'), loop('added', 'carrier1')],
  });
  p.reconcileTimers(same.timers, same.limiters);
  assert.equal(p.limiter('added'), before, 'a new timer naming it joins the same window');
  assert.equal(p.limiter('added')!.acquire(1, now + 1), 0, 'the window went on');
  const changed = resolveConfig({ limiter: ['name=carrier1;limit=5/1s'], timer: [loop('holiday', 'carrier1')] });
  p.reconcileTimers(changed.timers, changed.limiters);
  assert.notEqual(p.limiter('holiday'), before);
  assert.equal(p.limiter('holiday')!.acquire(9, now + 2), 5, 'the new N, the window empty');
  assert.ok(resolved.limiters);
});

const plain = (items: QueueItem[]) => items.map((i) => i.value);

test("pushedAt: every item carries the clock at its push, in FIFO order, through any thread's view", () => {
  let now = 1_000;
  const queue = SharedQueue.create({ name: 'q', size: 10, maxBytes: 1000, addmode: 0 }, () => now);
  queue.push('a');
  now = 2_500;
  queue.push(new Uint8Array([1]), 'k');
  const other = SharedQueue.attach(structuredClone(queue.handle), () => 9e9);
  assert.deepEqual(
    other.take(2).map((i) => i.pushedAt),
    [1_000, 2_500],
  );
  const real = SharedQueue.create({ name: 'r', size: 10, maxBytes: 1000, addmode: 0 });
  const before = Number(process.hrtime.bigint());
  real.push('x');
  const after = Number(process.hrtime.bigint());
  const [item] = real.take();
  assert.ok(item!.pushedAt >= before && item!.pushedAt <= after, 'ns on the process.hrtime scale');
});

test('maxage: items older than it are dropped at take time, handed to the listener, never returned; counted', () => {
  let now = 0;
  const queue = SharedQueue.create({ name: 'calls', size: 10, maxBytes: 1000, addmode: 0, maxAgeNs: 32e9 }, () => now);
  queue.push('old-1', 'a');
  now = 1e9;
  queue.push('old-2');
  now = 20e9;
  queue.push('fresh');
  const expired: QueueItem[][] = [];
  const listener = (items: QueueItem[]) => expired.push(items);
  queue.on('expired', listener);
  now = 33e9; // old-1 is 33 s old, old-2 32 s (the bound: dropped), fresh 13 s
  assert.deepEqual(plain(queue.take(5)), ['fresh']);
  assert.deepEqual(expired, [
    [
      { key: 'a', value: 'old-1', pushedAt: 0 },
      { key: undefined, value: 'old-2', pushedAt: 1e9 },
    ],
  ]);
  queue.off('expired', listener);
  queue.push('x');
  now = 70e9;
  assert.deepEqual(queue.take(5), [], 'without a listener an old item is only counted');
  assert.equal(expired.length, 1);
  assert.equal(queue.push(''.padEnd(10, 'y')) && queue.push('z'), true);
  assert.deepEqual(
    { ...queue.stats(), name: undefined },
    {
      name: undefined,
      size: 2,
      bytes: 11,
      capacity: 10,
      maxBytes: 1000,
      maxAgeNs: 32e9,
      pushed: 6,
      taken: 1,
      refused: 0,
      expired: 3,
    },
  );
  const small = SharedQueue.create({ name: 's', size: 1, maxBytes: 100, addmode: 0 });
  small.push('1');
  assert.equal(small.push('2'), false);
  assert.equal(small.stats().refused, 1, 'a push refused because the queue was full');
  assert.throws(() => queue.on('drop' as never, listener), /the only event is 'expired'/);
});

test('maxage in a worker view: the expired items go to the sink the thread was attached with (a post to the host)', () => {
  let now = 0;
  const resolved = resolveConfig({ queue: ['name=calls;size=10;maxage=1s'], timer: [loop('t')] });
  assert.equal(resolved.queues[0]!.maxAgeNs, 1e9);
  const host = DataPlane.create(resolved, { clock: () => now });
  const posted: Array<{ queue: string; items: QueueItem[] }> = [];
  const worker = DataPlane.attach(
    structuredClone(host.handles()),
    () => now,
    (queue, items) => posted.push({ queue, items }),
  );
  const got: QueueItem[][] = [];
  host.queue('calls').on('expired', (items) => got.push(items));
  host.queue('calls').push('late');
  now = 2e9;
  assert.deepEqual(worker.queueFor('t', 'calls').take(1), []);
  assert.deepEqual(
    posted.map((p) => [p.queue, plain(p.items)]),
    [['calls', ['late']]],
  );
  for (const p of posted) host.deliverExpired(p.queue, p.items);
  assert.deepEqual(got.map(plain), [['late']]);
  assert.throws(
    () => resolveConfig({ queue: ['name=q;maxage=0'] }),
    /queue "q": maxage: "0" is not valid; .*from 1ms to 86400s$/,
  );
});

/** A control with the data plane behind it, as PTimer gives it to the dispatcher. */
function rpcOver(data: DataPlane): RpcDispatcher {
  const control = new FakeControl([{ name: 't', nworkers: 1 }]) as FakeControl & { dataAccess(): DataPlane };
  control.dataAccess = () => data;
  return new RpcDispatcher(control);
}

async function answer(
  d: RpcDispatcher,
  method: string,
  ...params: unknown[]
): Promise<{ result?: any; error?: { code: number; message: string } }> {
  return (await d.handle({ jsonrpc: '2.0', method, params, id: 1 })) as never;
}

test("mqueue methods and ptimer.push: Kamailio's shapes, 404 for an unknown queue or an empty one, 500 when full", async () => {
  const p = DataPlane.create(resolveConfig({ queue: ['name=calls;size=2', 'name=jobs'], timer: [loop('t')] }));
  const d = rpcOver(p);
  assert.deepEqual((await answer(d, 'ptimer.push', 'calls', 'INVITE 1', 'call-1')).result, { name: 'calls', size: 1 });
  assert.deepEqual(
    (await answer(d, 'ptimer.push', 'calls', 42)).result,
    { name: 'calls', size: 2 },
    'a number, as kamcmd sends 42, is its text',
  );
  assert.equal((await answer(d, 'ptimer.push', 'calls', 'x')).error?.code, 500);
  assert.match((await answer(d, 'ptimer.push', 'calls', 'x')).error!.message, /queue "calls" is full \(2 of 2 items/);
  assert.deepEqual((await answer(d, 'mqueue.get_size', 'calls')).result, { name: 'calls', size: 2 });
  assert.deepEqual((await answer(d, 'mqueue.get_sizes')).result, [
    { name: 'calls', size: 2 },
    { name: 'jobs', size: 0 },
  ]);
  assert.deepEqual((await answer(d, 'mqueue.fetch', 'calls')).result, { key: 'call-1', val: 'INVITE 1' });
  assert.deepEqual((await answer(d, 'mqueue.fetch', 'calls')).result, { key: '', val: '42' });
  assert.deepEqual((await answer(d, 'mqueue.fetch', 'calls')).error, {
    code: 404,
    message: 'mqueue.fetch: Empty queue ("calls" holds no items)',
  });
  assert.deepEqual((await answer(d, 'mqueue.get_size', 'call')).error, {
    code: 404,
    message: 'mqueue.get_size: no queue "call"; the queues are calls, jobs',
  });
  assert.equal((await answer(d, 'mqueue.get_size')).error?.code, 400);
  const [q] = (await answer(d, 'ptimer.queues')).result;
  assert.deepEqual(q, {
    name: 'calls',
    size: 0,
    bytes: 0,
    capacity: 2,
    maxBytes: 16 * 2 ** 20,
    maxage: 0,
    pushed: 2,
    taken: 2,
    refused: 2,
    expired: 0,
  });
});

test("htable methods: get/sets/seti/delete/flush/listTables/stats in Kamailio's shapes; errors name what is wrong", async () => {
  let now = 5e9;
  const p = DataPlane.create(
    resolveConfig({ table: ['kpi=>size=2;autoexpire=60', 'flags=>size=1'], timer: [loop('t')] }),
    { clock: () => now },
  );
  const d = rpcOver(p);
  assert.equal((await answer(d, 'htable.sets', 'kpi', 'gw1', 'up')).result, 'Ok. Key set to new value.');
  assert.equal((await answer(d, 'htable.seti', 'kpi', 'gw2', 7)).result, 'Ok. Key set to new value.');
  assert.equal(
    (await answer(d, 'htable.seti', 'kpi', 'gw3', '12')).result,
    'Ok. Key set to new value.',
    'digits as kamctl sends them',
  );
  assert.equal((await answer(d, 'htable.seti', 'kpi', 'gw3', 'x')).error?.code, 400);
  p.table('flags').set('never', 'x', { expires: 0 });
  const got = (await answer(d, 'htable.get', 'kpi', 'gw1')).result;
  assert.deepEqual({ ...got.item, expire: undefined }, { name: 'gw1', value: 'up', flags: 2, expire: undefined });
  assert.match(got.item.expire, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.deepEqual((await answer(d, 'htable.get', 'kpi', 'gw2')).result.item.flags, 0);
  assert.equal((await answer(d, 'htable.get', 'flags', 'never')).result.item.expire, 'NEVER');
  assert.equal((await answer(d, 'htable.get', 'kpi', 'nope')).error?.code, 404);
  assert.deepEqual((await answer(d, 'htable.get', 'kpx', 'a')).error, {
    code: 404,
    message: 'htable.get: no table "kpx"; the tables are kpi, flags',
  });
  assert.deepEqual((await answer(d, 'htable.listTables')).result, [
    { name: 'kpi', dbtable: '', dbmode: 0, expire: 60, updateexpire: 1, size: 4, dmqreplicate: 0 },
    { name: 'flags', dbtable: '', dbmode: 0, expire: 0, updateexpire: 1, size: 2, dmqreplicate: 0 },
  ]);
  const [kpiStats] = (await answer(d, 'htable.stats')).result;
  assert.equal(kpiStats.name, 'kpi');
  assert.equal(kpiStats.slots, 4);
  assert.equal(kpiStats.all, 3);
  assert.ok(kpiStats.min <= kpiStats.max && kpiStats.max <= 3);
  const dump = (await answer(d, 'htable.dump', 'kpi')).result as Array<{
    entry: number;
    size: number;
    slot: Array<{ name: string; value: unknown; type: string }>;
  }>;
  assert.deepEqual(
    dump.flatMap((b) => b.slot).sort((a, b) => a.name.localeCompare(b.name)),
    [
      { name: 'gw1', value: 'up', type: 'str' },
      { name: 'gw2', value: 7, type: 'int' },
      { name: 'gw3', value: 12, type: 'int' },
    ],
  );
  for (const b of dump) assert.equal(b.size, b.slot.length);
  assert.equal((await answer(d, 'htable.delete', 'kpi', 'gw1')).result, 'Ok. Key deleted.');
  assert.equal((await answer(d, 'htable.delete', 'kpi', 'gw1')).error?.code, 404);
  now += 61e9;
  assert.deepEqual(
    p.table('kpi').stats(),
    { name: 'kpi', entries: 0, maxEntries: 256, expired: 2 },
    'the two left expired',
  );
  assert.equal((await answer(d, 'htable.flush', 'flags')).result, 'Ok. Htable flushed.');
  assert.equal(p.table('flags').size, 0);
});

test('htable.dump is bounded: a table past 1,000 entries is refused with a bucket range that fits; ranges page through it', async () => {
  const p = DataPlane.create(resolveConfig({ table: ['big=>size=5'], timer: [loop('t')] }));
  const table = p.table('big');
  for (let i = 0; i < 1_500; i++) table.set(`k${i}`, i);
  const d = rpcOver(p);
  const refused = (await answer(d, 'htable.dump', 'big')).error!;
  assert.equal(refused.code, 400);
  const m = /ask for a range that fits: htable\.dump big 0 (\d+), then go on from bucket (\d+)$/.exec(refused.message);
  assert.ok(m, refused.message);
  const keys = new Set<string>();
  let from = 0;
  while (from < 32) {
    const r = await answer(d, 'htable.dump', 'big', from, 32 - from);
    if (r.result) {
      for (const b of r.result) for (const e of b.slot) keys.add(e.name);
      break;
    }
    const fits = Number(/htable\.dump big \d+ (\d+)/.exec(r.error!.message)![1]);
    for (const b of (await answer(d, 'htable.dump', 'big', from, fits)).result)
      for (const e of b.slot) keys.add(e.name);
    from += fits;
  }
  assert.equal(keys.size, 1_500, 'every entry, once, across the pages');
  assert.equal((await answer(d, 'htable.dump', 'big', 32)).error?.code, 400, 'a bucket past the end');
});
