/**
 * Issue 17, items 3-6 end to end: `ptimer run` with queues, a table and a named limiter
 * (test/fixtures/queues-tables/qt.config.ts), driven by Kamailio's real kamcmd (BINRPC) and
 * kamctl (jsonrpcs FIFO), by HTTP, the Unix socket and the jsonrpcs datagram socket:
 * - the mqueue and htable methods answer in Kamailio's shapes on every transport, and a queue
 *   is fed from outside with ptimer.push;
 * - two timers naming one limiter take 3 in its 60 s window together, not 3 each; /metrics
 *   counts the queues, the table and the limiter;
 * - ptimer.list shows the ntasks the start routes set (per worker; the timer's when they agree);
 * - in a library host, a queue's maxage drops old items when a route on a worker thread takes
 *   and hands them to `pt.queue(name).on('expired')`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Server, freePort, httpRequest, rpcHttp, rpcSocket, waitFor } from '../fixtures/cli/harness.js';
import { parsePrometheusText } from '../fixtures/cli/prom-text.js';
import { PTimer, type QueueItem } from '../../src/index.js';
import { runTool } from '../fixtures/kamailio-tools/run-tool.js';
import { parseKamcmd } from '../fixtures/kamailio-tools/kamcmd-output.js';

const CONFIG = 'test/fixtures/queues-tables/qt.config.ts';
const KAMCMD = '/usr/sbin/kamcmd';
const KAMCTL = '/usr/sbin/kamctl';
const dir = mkdtempSync('/tmp/ptimer-qt-');
const CTL = join(dir, 'ctl');
const FIFO = join(dir, 'rpc.fifo');
const DGRAM = join(dir, 'rpc.sock');
const SOCKET = join(dir, 'json.sock');
const HOME = join(dir, 'home');
let server: Server;
let port: number;

const run = runTool;

async function kamcmd(...args: string[]): Promise<string> {
  const r = await run(KAMCMD, ['-s', `unix:${CTL}`, ...args]);
  if (r.code !== 0) throw new Error(`kamcmd ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function kamctl(...args: string[]): Promise<any> {
  const r = await run(KAMCTL, ['rpc', ...args], { HOME });
  if (r.code !== 0) throw new Error(`kamctl rpc ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(async () => {
  for (const tool of [KAMCMD, KAMCTL]) {
    if (!existsSync(tool))
      throw new Error(
        `${tool} is missing: these tests drive Kamailio's real tools; install Debian's kamailio package (.ci/run does)`,
      );
  }
  mkdirSync(HOME);
  writeFileSync(join(HOME, '.kamctlrc'), `RPCFIFOPATH=${FIFO}\n`);
  port = await freePort();
  server = new Server([
    CONFIG,
    '--http',
    `127.0.0.1:${port}`,
    '--socket',
    SOCKET,
    '--binrpc',
    `unix:${CTL}`,
    '--fifo',
    FIFO,
    '--dgram',
    DGRAM,
    '--log-level',
    'warn',
  ]);
  await waitFor(
    'ptimer run to answer kamcmd',
    async () => {
      if (!server.running) throw new Error(`ptimer run exited: ${server.stderr}`);
      return (await kamcmd('mqueue.get_sizes')).includes('jobs');
    },
    30_000,
  );
});

after(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test("kamcmd: ptimer.push feeds a queue; mqueue.get_size, get_sizes and fetch answer as Kamailio's mqueue does", async () => {
  assert.equal(
    (await kamcmd('ptimer.push', 'jobs', 'INVITE sip:a', 'call-1')).trim(),
    '{\n\tname: jobs\n\tsize: 1\n}'.trim(),
  );
  await kamcmd('ptimer.push', 'jobs', 'INVITE sip:b');
  assert.deepEqual(parseKamcmd(await kamcmd('mqueue.get_size', 'jobs')), [{ name: 'jobs', size: 2 }]);
  assert.deepEqual(
    parseKamcmd(await kamcmd('mqueue.get_sizes')).find((q: any) => q.name === 'jobs'),
    { name: 'jobs', size: 2 },
  );
  assert.equal(parseKamcmd(await kamcmd('mqueue.get_sizes')).length, 2, 'one record per queue');
  assert.deepEqual(parseKamcmd(await kamcmd('mqueue.fetch', 'jobs')), [{ key: 'call-1', val: 'INVITE sip:a' }]);
  assert.deepEqual(parseKamcmd(await kamcmd('mqueue.fetch', 'jobs')), [{ key: '', val: 'INVITE sip:b' }]);
  assert.match(await kamcmd('mqueue.fetch', 'jobs'), /^error: 404 - mqueue\.fetch: Empty queue/);
  assert.match(
    await kamcmd('mqueue.get_size', 'jbos'),
    /^error: 404 - mqueue\.get_size: no queue "jbos"; the queues are jobs, calls/,
  );
  for (let i = 0; i < 5; i++) await kamcmd('ptimer.push', 'jobs', `j${i}`);
  assert.match(
    await kamcmd('ptimer.push', 'jobs', 'one too many'),
    /^error: 500 - ptimer\.push: queue "jobs" is full \(5 of 5 items/,
  );
});

test("kamcmd: htable.sets, seti, get, dump, stats, listTables, delete and flush in Kamailio's shapes", async () => {
  assert.equal((await kamcmd('htable.sets', 'kpi', 'gw1', 'up')).trim(), 'Ok. Key set to new value.');
  assert.equal((await kamcmd('htable.seti', 'kpi', 'gw2', '7')).trim(), 'Ok. Key set to new value.');
  const [got] = parseKamcmd(await kamcmd('htable.get', 'kpi', 'gw1')) as any[];
  assert.deepEqual({ ...got.item, expire: undefined }, { name: 'gw1', value: 'up', flags: 2, expire: undefined });
  assert.match(got.item.expire, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal((parseKamcmd(await kamcmd('htable.get', 'kpi', 'gw2')) as any[])[0].item.value, 7);
  const dump = parseKamcmd(await kamcmd('htable.dump', 'kpi')) as Array<{ entry: number; size: number; slot: any }>;
  const slots = dump.flatMap((b) => (Array.isArray(b.slot) ? b.slot : [b.slot]));
  assert.deepEqual(
    slots.sort((a, b) => a.name.localeCompare(b.name)),
    [
      { name: 'gw1', value: 'up', type: 'str' },
      { name: 'gw2', value: 7, type: 'int' },
    ],
  );
  assert.deepEqual(parseKamcmd(await kamcmd('htable.stats'))[0], {
    name: 'kpi',
    slots: 8,
    all: 2,
    min: 0,
    max: dump.length === 1 ? 2 : 1,
  });
  assert.deepEqual(parseKamcmd(await kamcmd('htable.listTables')), [
    { name: 'kpi', dbtable: '', dbmode: 0, expire: 3600, updateexpire: 1, size: 8, dmqreplicate: 0 },
  ]);
  assert.equal((await kamcmd('htable.delete', 'kpi', 'gw1')).trim(), 'Ok. Key deleted.');
  assert.match(await kamcmd('htable.delete', 'kpi', 'gw1'), /^error: 404 - htable\.delete: Key not found in htable/);
  assert.match(await kamcmd('htable.get', 'kpx', 'a'), /^error: 404 - htable\.get: no table "kpx"; the tables are kpi/);
  assert.equal((await kamcmd('htable.flush', 'kpi')).trim(), 'Ok. Htable flushed.');
  assert.deepEqual(parseKamcmd(await kamcmd('htable.stats'))[0], { name: 'kpi', slots: 8, all: 0, min: 0, max: 0 });
});

test('kamctl rpc (jsonrpcs FIFO), HTTP, the Unix socket and the datagram socket answer the same methods alike', async () => {
  assert.deepEqual((await kamctl('htable.sets', 'kpi', 'gw3', 'down')).result, 'Ok. Key set to new value.');
  assert.deepEqual((await kamctl('htable.get', 'kpi', 'gw3')).result.item.value, 'down');
  assert.deepEqual((await kamctl('mqueue.get_size', 'jobs')).result, { name: 'jobs', size: 5 });
  assert.equal((await kamctl('mqueue.get_size', 'nope')).error.code, 404);
  assert.deepEqual((await rpcHttp(port, 'htable.dump', ['kpi'])).result[0].slot, [
    { name: 'gw3', value: 'down', type: 'str' },
  ]);
  assert.deepEqual((await rpcSocket(SOCKET, 'mqueue.fetch', ['jobs'])).result, { key: '', val: 'j0' });
  const ud = createRequire(import.meta.url)('unix-dgram') as {
    createSocket(
      type: 'unix_dgram',
      listener: (buf: Buffer) => void,
    ): { bind(path: string): void; send(buf: Buffer, o: number, l: number, path: string): void; close(): void };
  };
  const viaDatagram = await new Promise<any>((resolve, reject) => {
    const me = join(dir, 'client.sock');
    const timer = setTimeout(() => reject(new Error('no datagram answer within 10 s')), 10_000);
    const s = ud.createSocket('unix_dgram', (buf) => {
      clearTimeout(timer);
      s.close();
      resolve(JSON.parse(buf.toString('utf8')));
    });
    s.bind(me);
    const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'mqueue.get_size', params: ['jobs'], id: 7 }));
    s.send(b, 0, b.length, DGRAM);
  });
  assert.deepEqual(viaDatagram.result, { name: 'jobs', size: 4 });
  const methods = (await rpcHttp(port, 'system.listMethods')).result as string[];
  for (const m of [
    'mqueue.get_size',
    'mqueue.get_sizes',
    'mqueue.fetch',
    'htable.get',
    'htable.sets',
    'htable.seti',
    'htable.delete',
    'htable.dump',
    'htable.flush',
    'htable.listTables',
    'htable.stats',
    'ptimer.push',
  ]) {
    assert.ok(methods.includes(m), m);
  }
});

test('two timers naming one limiter take 3 in its window together; /metrics counts queues, table and limiter', async () => {
  for (let i = 0; i < 10; i++) await kamcmd('ptimer.push', 'calls', `INVITE ${i}`);
  const calls = async () => ((await rpcHttp(port, 'ptimer.queues')).result as any[]).find((q) => q.name === 'calls');
  await waitFor('the timers to take 3 calls', async () => (await calls()).taken >= 3, 15_000);
  // Both timers run on (every 20 ms) well past the take: the shared window lets nothing more through.
  const runs = async () =>
    ((await rpcHttp(port, 'ptimer.list')).result as any[]).map((t) =>
      t.workers.reduce((s: number, w: any) => s + w.iterations, 0),
    );
  const [n0, h0] = await runs();
  await waitFor(
    'both timers to run 10 more times',
    async () => {
      const [n, h] = await runs();
      return n! >= n0! + 10 && h! >= h0! + 10;
    },
    15_000,
  );
  const q = await calls();
  assert.equal(q.taken, 3, 'one window of 3 for both timers: not 3 each');
  assert.equal(q.size, 7);
  const metrics = parsePrometheusText((await httpRequest(port, { method: 'GET', path: '/metrics' })).body);
  const sample = (name: string, labels: Record<string, string>) =>
    metrics.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(sample('ptimer_limiter_granted_total', { limiter: 'carrier1', kind: 'limiter' }), 3);
  assert.ok(
    sample('ptimer_limiter_refused_total', { limiter: 'carrier1' })! > 0,
    'the timers asked for more than the window gave',
  );
  assert.equal(sample('ptimer_queue_items', { queue: 'calls' }), 7);
  assert.equal(sample('ptimer_queue_pushed_total', { queue: 'calls' }), 10);
  assert.equal(sample('ptimer_queue_taken_total', { queue: 'calls' }), 3);
  assert.equal(sample('ptimer_queue_refused_total', { queue: 'jobs' }), 1);
  assert.equal(sample('ptimer_queue_expired_total', { queue: 'calls' }), 0);
  assert.ok(sample('ptimer_queue_bytes', { queue: 'calls' })! > 0);
  assert.equal(sample('ptimer_table_entries', { table: 'kpi' }), 1);
  assert.equal(sample('ptimer_table_expired_total', { table: 'kpi' }), 0);
});

test("ptimer.list: each worker's ntasks as its start route set it; the timer's when its workers agree, null when not", async () => {
  const list = (await rpcHttp(port, 'ptimer.list')).result as any[];
  const normal = list.find((t) => t.name === 'normal_timer');
  const holiday = list.find((t) => t.name === 'holiday_timer');
  assert.deepEqual(
    normal.workers.map((w: any) => w.ntasks),
    [4, 5],
  );
  assert.equal(normal.ntasks, null, 'the workers differ');
  assert.deepEqual(normal.configured, { ntasks: 10, nslices: 1 });
  assert.equal(holiday.ntasks, 7, 'configured 10; its start route set 7');
  assert.equal(normal.nslices, 1);
});

test("maxage in a library host: a route's take on a worker thread drops old items and the host's on('expired') gets them", async () => {
  const pt = await PTimer.create(
    {
      queue: ['name=calls;size=100;maxage=1500ms'],
      timer: [{ name: 'release', type: 'sync', interval: '20ms', ntasks: 10, loop: 'RELEASE', paused: true }],
    },
    { routes: new URL('../fixtures/queues-tables/age-routes.ts', import.meta.url), log: { level: 'silent' } },
  );
  const expired: QueueItem[] = [];
  const released: Array<{ value: string; waitedMs: number }> = [];
  pt.queue('calls').on('expired', (items) => expired.push(...items));
  pt.on('message', (m) => {
    if (m.event === 'released') released.push(...(m.data as typeof released));
  });
  try {
    await pt.run();
    pt.queue('calls').push('stale-1', 'a');
    pt.queue('calls').push('stale-2');
    const pushedBy = Number(process.hrtime.bigint());
    await waitFor('maxage to pass', () => Number(process.hrtime.bigint()) - pushedBy > 1520e6);
    pt.queue('calls').push('fresh');
    await pt.continue('release');
    await waitFor('the take', () => released.length >= 1 && expired.length >= 2);
    assert.deepEqual(
      released.map((r) => r.value),
      ['fresh'],
    );
    assert.ok(
      released[0]!.waitedMs >= 0 && released[0]!.waitedMs < 1500,
      `waited ${released[0]!.waitedMs} ms (pushedAt on the hrtime scale in the worker thread)`,
    );
    assert.deepEqual(
      expired.map((i) => [i.key, i.value]),
      [
        ['a', 'stale-1'],
        [undefined, 'stale-2'],
      ],
    );
    assert.ok(expired.every((i) => i.pushedAt <= pushedBy));
    assert.equal(pt.queue('calls').stats().expired, 2);
  } finally {
    await pt.stop();
  }
});

test('slice arithmetic as docs/queues-tables-limits.md states it: ntasks=50, nslices=20, two workers 5 slices apart release 5 per run; 10 apart, 4 and 6', async () => {
  const timer = (name: string) => ({
    name,
    type: 'synced-slice' as const,
    interval: '100ms',
    nworkers: 2,
    ntasks: 50,
    nslices: 20,
    start: 'SLICE_START',
    loop: 'SLICE_LOOP',
  });
  const pt = await PTimer.create(
    { timer: [timer('apart5'), timer('apart10')] },
    {
      routes: new URL('../fixtures/queues-tables/slice-routes.ts', import.meta.url),
      log: { level: 'silent' },
      data: { apart5: 5, apart10: 10 },
    },
  );
  const runs = new Map<string, Map<number, number[]>>([
    ['apart5', new Map()],
    ['apart10', new Map()],
  ]);
  pt.on('message', (m) => {
    const { tick, tasks } = m.data as { tick: number; tasks: number };
    const byTick = runs.get(m.timer)!;
    byTick.set(tick, [...(byTick.get(tick) ?? []), tasks]);
  });
  const complete = (name: string) => [...runs.get(name)!.values()].filter((t) => t.length === 2).length;
  try {
    await pt.run();
    await waitFor(
      '12 ticks run by both workers of both timers',
      () => complete('apart5') >= 12 && complete('apart10') >= 12,
      20_000,
    );
  } finally {
    await pt.stop();
  }
  const sums = (name: string) =>
    [...runs.get(name)!.entries()]
      .filter(([, t]) => t.length === 2)
      .sort(([a], [b]) => a - b)
      .slice(0, 12)
      .map(([, t]) => t[0]! + t[1]!);
  assert.deepEqual(sums('apart5'), Array(12).fill(5), 'tasks(i) + tasks(i + 5) = 5: 2 + 3 or 3 + 2');
  assert.deepEqual(new Set(sums('apart10')), new Set([4, 6]), 'tasks(i) + tasks(i + 10): 2 + 2 or 3 + 3');
  for (const name of ['apart5', 'apart10']) {
    for (const t of runs.get(name)!.values())
      for (const tasks of t) assert.ok(tasks === 2 || tasks === 3, `${name}: ${tasks}`);
  }
});

test("a reload keeps a named limiter's window when its N/W did not change; a changed N/W starts a new window", async () => {
  const timer = (name: string) => ({
    name,
    type: 'sync' as const,
    interval: '20ms',
    ntasks: 10,
    limit: 'carrier1',
    loop: 'TAKE',
  });
  const config = (limit: string, timers: string[]) => ({
    queue: ['name=calls;size=100'],
    limiter: [`name=carrier1;limit=${limit}`],
    timer: timers.map(timer),
  });
  const pt = await PTimer.create(config('2/60s', ['a']), {
    routes: new URL('../fixtures/queues-tables/age-routes.ts', import.meta.url),
    log: { level: 'silent' },
  });
  const taken = () => pt.queue('calls').stats().taken;
  const iterations = (name: string) => pt.list().find((t) => t.name === name)?.workers[0]?.iterations ?? 0;
  try {
    await pt.run();
    for (let i = 0; i < 9; i++) pt.queue('calls').push(`c${i}`);
    await waitFor('timer a to take 2', () => taken() >= 2);
    const reloaded = await pt.reload(config('2/60s', ['a', 'b']));
    assert.deepEqual([reloaded.added, reloaded.unchanged], [['b'], ['a']]);
    await waitFor('timer b to run 10 times', () => iterations('b') >= 10);
    assert.equal(taken(), 2, 'b joined the same window: nothing more within the 60 s');
    const changed = await pt.reload(config('5/60s', ['a', 'b']));
    assert.deepEqual(changed.changed.map((c) => c.timer).sort(), ['a', 'b']);
    await waitFor('the new window to grant 5 more', () => taken() >= 7);
    await waitFor(
      'both timers to run 10 times on the new window',
      () => iterations('a') >= 10 && iterations('b') >= 10,
    );
    assert.equal(taken(), 7, 'a new window of 5 for both');
  } finally {
    await pt.stop();
  }
});
