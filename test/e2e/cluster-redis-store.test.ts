/**
 * The Redis store against a real redis-server (started on a free loopback port in a temp folder,
 * stopped at the end), held to the same contract as the in-memory reference the unit tests use:
 * leases and fencing tokens, expiry, presence, bookings by the sliding-log rule, Streams queues with
 * fenced takes and re-delivery of what a dead holder took. Then two LeaseTables on that Redis in
 * real time: the slots spread and move after one stops renewing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/cluster/memory-store.js';
import { RedisStore } from '../../src/cluster/redis-store.js';
import { resolveCluster } from '../../src/config/cluster-params.js';
import { LeaseTable } from '../../src/cluster/lease-table.js';
import { systemClock } from '../../src/cluster/cluster-clock.js';
import { mostInWindow } from '../../src/cluster/sliding-log.js';
import type { ClusterStore } from '../../src/cluster/store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/** Polls an async condition until true, or fails naming it after a generous deadline. */
async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: RedisServer;
const stores: ClusterStore[] = [];

before(async () => {
  server = await startRedis();
});

after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server.stop();
});

const wallUs = () => Math.floor((performance.timeOrigin + performance.now()) * 1e3);
let clusterSeq = 0;

function makeStores(): Array<[string, () => Promise<ClusterStore>]> {
  return [
    ['memory', () => Promise.resolve(new MemoryStore(wallUs))],
    [
      'redis',
      async () => {
        const store = await RedisStore.connect(resolveCluster(`url=${server.url};name=c${++clusterSeq}`)!);
        stores.push(store);
        return store;
      },
    ],
  ];
}

for (const [kind, make] of makeStores()) {
  test(`${kind} store: leases, fencing tokens, release, expiry, presence`, async () => {
    const store = await make();
    const e1 = await store.epoch();
    const e2 = await store.epoch();
    assert.equal(e1.epochUs, e2.epochUs, 'the epoch is set once');
    assert.ok(Math.abs(e1.serverTimeUs - wallUs()) < 5e6);
    const a = await store.acquire('t:0', 'host-a:1', 5000);
    assert.equal(a.granted, true);
    const tokenA = (a as { token: number }).token;
    assert.deepEqual(
      await store.acquire('t:0', 'host-b:2', 5000).then((r) => ('holder' in r ? r.holder : r)),
      'host-a:1',
    );
    const round = await store.round(
      'host-a:1',
      [
        { slot: 't:0', token: tokenA },
        { slot: 't:1', token: 7 },
      ],
      ['t:0', 't:1'],
      5000,
    );
    assert.deepEqual(round.renewed, [true, false]);
    assert.deepEqual(round.holders, { 't:0': 'host-a:1', 't:1': null });
    assert.ok(round.runId.length > 0);
    await store.round('host-b:2', [], ['t:0'], 5000);
    assert.deepEqual((await store.round('host-a:1', [], [], 5000)).liveNodes, ['host-a:1', 'host-b:2']);
    assert.equal(await store.release('t:0', 'host-a:1', tokenA + 1), false, 'a wrong token releases nothing');
    assert.equal(await store.release('t:0', 'host-a:1', tokenA), true);
    const b = await store.acquire('t:0', 'host-b:2', 300);
    assert.equal(b.granted, true);
    assert.ok((b as { token: number }).token > tokenA, 'a new token above the last');
    // Expiry by the server's clock.
    await waitFor(
      async () => (await store.round('host-a:1', [], ['t:0'], 5000)).holders['t:0'] === null,
      3000,
      't:0 expires',
    );
    const c = await store.acquire('t:0', 'host-a:1', 5000);
    assert.ok(c.granted && c.token > (b as { token: number }).token);
    await store.leave('host-b:2');
    assert.deepEqual((await store.round('host-a:1', [], [], 5000)).liveNodes, ['host-a:1']);
  });

  test(`${kind} store: bookings keep every N + 1 at least W + 2 guard apart, across nodes; a stale token books nothing`, async () => {
    const store = await make();
    const a = (await store.acquire('t:0', 'a', 10_000)) as { granted: true; token: number; serverTimeUs: number };
    const b = (await store.acquire('t:1', 'b', 10_000)) as { granted: true; token: number };
    const start = a.serverTimeUs + 200_000;
    const grid = (from: number, n: number, step: number) => Array.from({ length: n }, (_, i) => from + i * step);
    const request = { limit: 't', count: 5, windowUs: 100_000, guardUs: 1_000, notBeforeUs: 0 };
    const fromA = await store.book('a', {
      ...request,
      slot: 't:0',
      token: a.token,
      candidatesUs: grid(start, 4, 10_000),
    });
    assert.deepEqual(fromA, { admittedUs: grid(start, 4, 10_000) });
    const fromB = await store.book('b', {
      ...request,
      slot: 't:1',
      token: b.token,
      candidatesUs: grid(start + 5_000, 10, 10_000),
    });
    assert.ok(!('stale' in fromB));
    const all = [...grid(start, 4, 10_000), ...fromB.admittedUs].sort((x, y) => x - y);
    assert.equal(fromB.admittedUs[0], start + 5_000, 'the first of b fits (5 in the window)');
    assert.ok(mostInWindow(all, 102_000) <= 5, `${mostInWindow(all, 102_000)} in one window`);
    assert.deepEqual(
      await store.book('b', { ...request, slot: 't:1', token: b.token + 1, candidatesUs: [start + 500_000] }),
      { stale: true },
    );
    assert.deepEqual(
      await store.book('a', { ...request, slot: 't:0', token: a.token, candidatesUs: [a.serverTimeUs - 1_000_000] }),
      { admittedUs: [] },
      'past times are not admitted',
    );
  });

  test(`${kind} store: queue takes are fenced, acked items gone, a dead holder's items re-delivered after the idle time`, async () => {
    const store = await make();
    for (let i = 0; i < 10; i++) await store.push('calls', `k${i}`, `v${i}`);
    assert.equal(await store.queueLength('calls'), 10);
    const a = (await store.acquire('t:0', 'a', 10_000)) as { granted: true; token: number };
    const b = (await store.acquire('t:1', 'b', 10_000)) as { granted: true; token: number };
    assert.deepEqual(await store.take('calls', 'a', 't:0', a.token + 1, 4), { stale: true });
    const first = (await store.take('calls', 'a', 't:0', a.token, 4)) as Array<{
      id: string;
      key: string;
      value: string;
    }>;
    assert.deepEqual(
      first.map((i) => [i.key, i.value]),
      [0, 1, 2, 3].map((i) => [`k${i}`, `v${i}`]),
    );
    assert.equal(
      await store.ack(
        'calls',
        first.map((i) => i.id),
      ),
      4,
    );
    assert.equal(await store.queueLength('calls'), 6);
    // a takes three more and "dies" before releasing them.
    const lost = (await store.take('calls', 'a', 't:0', a.token, 3)) as Array<{ id: string; key: string }>;
    assert.deepEqual(
      lost.map((i) => i.key),
      ['k4', 'k5', 'k6'],
    );
    assert.deepEqual(
      await store.reclaim('calls', 'b', 't:1', b.token, 60_000, 10),
      [],
      'not idle long enough: not re-delivered',
    );
    await new Promise((r) => setTimeout(r, 120));
    const again = (await store.reclaim('calls', 'b', 't:1', b.token, 100, 10)) as Array<{ key: string }>;
    assert.deepEqual(
      again.map((i) => i.key),
      ['k4', 'k5', 'k6'],
    );
    const rest = (await store.take('calls', 'b', 't:1', b.token, 10)) as Array<{ key: string }>;
    assert.deepEqual(
      rest.map((i) => i.key),
      ['k7', 'k8', 'k9'],
    );
  });
}

test('two LeaseTables on Redis in real time: slots spread, and move when one node stops renewing', async () => {
  const cluster = resolveCluster(`url=${server.url};name=tables;ttl=300ms`)!;
  const slots = ['t:0', 't:1', 't:2', 't:3'];
  const held = new Map<string, string>();
  const make = async (node: string) => {
    const store = await RedisStore.connect(cluster);
    stores.push(store);
    return new LeaseTable({
      node,
      slots,
      ttlNs: cluster.ttlNs,
      store,
      clock: systemClock,
      events: {
        start: (slot) => {
          assert.ok(
            !held.has(slot) || held.get(slot) === node,
            `${slot} started on ${node} while ${held.get(slot)} runs it`,
          );
          held.set(slot, node);
        },
        extend: () => {},
        stop: (slot) => {
          if (held.get(slot) === node) held.delete(slot);
        },
      },
    });
  };
  const a = await make('a');
  const b = await make('b');
  let aRuns = true;
  const rounds = (async () => {
    for (let i = 0; i < 40; i++) {
      await Promise.all([aRuns ? a.round().catch(() => {}) : a.expire(), b.round().catch(() => {})]);
      await new Promise((r) => setTimeout(r, a.roundEveryNs / 1e6));
    }
  })();
  await waitFor(() => a.heldSlots().length === 2 && b.heldSlots().length === 2, 5000, 'two slots each');
  assert.ok(
    a.clock.offset() !== null && Math.abs(a.clock.offset()!.offsetNs) < 50e6,
    'the offset to the local Redis is small',
  );
  aRuns = false; // a stops renewing (as if paused or cut off)
  await waitFor(() => b.heldSlots().length === 4, 5000, 'b holds all four after a stopped renewing');
  assert.equal(a.heldSlots().length, 0, 'a stopped its slots by its own clock');
  await rounds;
});
