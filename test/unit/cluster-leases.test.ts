/**
 * Slot leases on a virtual clock (test/support/cluster-sim.ts: real LeaseTables, the reference
 * MemoryStore): spread over live nodes, takeover bounds after a kill, never twice after a pause,
 * fencing, the store unreachable, a primary failover's quarantine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterSim, MS } from '../support/cluster-sim.js';

const TTL = 1500 * MS;
const INTERVAL = 100 * MS;

function counts(sim: ClusterSim): Record<string, number> {
  const out: Record<string, number> = {};
  for (const node of sim.nodes) if (!node.dead) out[node.id] = node.table.heldSlots().length;
  return out;
}

function assertEachSlotOnce(sim: ClusterSim): void {
  for (const [slot, holders] of Object.entries(sim.holders()))
    assert.equal(holders.length, 1, `${slot} held by ${holders.join(',') || 'nobody'}`);
}

test('slots spread evenly: each held by one node, no node above ceil(slots / nodes)', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 7);
  sim.addNode('a');
  sim.addNode('b', 123_456_789);
  sim.addNode('c', -5 * MS);
  await sim.runUntil(3 * TTL);
  assertEachSlotOnce(sim);
  for (const [node, n] of Object.entries(counts(sim))) assert.ok(n <= 3, `${node} holds ${n}`);
  assert.deepEqual(sim.duplicates(), []);
  // Every tick of every slot ran once since all were taken (no gaps in steady state).
  const from = 2 * TTL;
  for (const slot of sim.slots) {
    const ticks = sim.runs.filter((r) => r.slot === slot && r.atNs > from).map((r) => r.tick);
    for (let i = 1; i < ticks.length; i++)
      assert.equal(ticks[i], ticks[i - 1]! + 1, `${slot}: tick ${ticks[i - 1]} then ${ticks[i]}`);
    assert.ok(ticks.length >= 9, `${slot} ran ${ticks.length} ticks in 1.5 s`);
  }
});

test('a node joining takes its share at the next renewals (the others release their extras)', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 6);
  sim.addNode('a');
  sim.addNode('b');
  await sim.runUntil(2 * TTL);
  assert.deepEqual(Object.values(counts(sim)).sort(), [3, 3]);
  sim.addNode('c');
  const joinedAt = sim.nowNs;
  await sim.runUntil(2 * TTL + 3 * (TTL / 3) + 10 * MS);
  assert.deepEqual(counts(sim), { a: 2, b: 2, c: 2 });
  assertEachSlotOnce(sim);
  assert.deepEqual(sim.duplicates(), []);
  const moved = sim.nodes.flatMap((n) => n.stops.filter((s) => s.why === 'moved' && s.atNs > joinedAt));
  assert.equal(moved.length, 2);
});

test('takeover after a kill: every slot of the dead node runs elsewhere within ttl + ttl/3 + one interval', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 6);
  const [a] = [sim.addNode('a'), sim.addNode('b'), sim.addNode('c')];
  await sim.runUntil(3 * TTL);
  const killedAt = sim.nowNs;
  const orphaned = a.table.heldSlots().map((h) => h.slot);
  assert.ok(orphaned.length > 0);
  a.dead = true;
  await sim.runUntil(killedAt + 2 * TTL);
  const bound = killedAt + TTL + TTL / 3 + INTERVAL;
  for (const slot of orphaned) {
    const first = sim.runs.find((r) => r.slot === slot && r.atNs > killedAt && r.node !== 'a');
    assert.ok(first, `${slot} never ran again`);
    assert.ok(
      first.atNs <= bound,
      `${slot} ran again ${(first.atNs - killedAt) / MS} ms after the kill (bound ${(bound - killedAt) / MS} ms)`,
    );
  }
  assert.ok(sim.nodes[1]!.table.counters.takeovers + sim.nodes[2]!.table.counters.takeovers >= orphaned.length);
  assert.deepEqual(sim.duplicates(), []);
});

test('never twice: a holder paused 2 x ttl stops by its own clock; resumed, it runs nothing another node ran', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 3);
  const a = sim.addNode('a');
  sim.addNode('b');
  await sim.runUntil(2 * TTL);
  const aSlots = a.table.heldSlots();
  assert.ok(aSlots.length > 0);
  a.paused = true;
  const pausedAt = sim.nowNs;
  await sim.runUntil(pausedAt + 2 * TTL);
  // b took a's slots while a was stopped.
  for (const { slot } of aSlots)
    assert.ok(
      sim.runs.some((r) => r.slot === slot && r.node === 'b' && r.atNs > pausedAt),
      `${slot} not taken over`,
    );
  a.paused = false;
  await sim.runUntil(sim.nowNs + 2 * TTL);
  assert.deepEqual(sim.duplicates(), []);
  // a ran none of its old slots' ticks after the pause began past its lease end.
  const lateRuns = sim.runs.filter(
    (r) =>
      r.node === 'a' &&
      r.atNs >= pausedAt + TTL &&
      aSlots.some((h) => h.slot === r.slot) &&
      sim.runs.some((o) => o.node === 'b' && o.slot === r.slot && o.tick === r.tick),
  );
  assert.deepEqual(lateRuns, []);
  assert.ok(
    a.stops.some((s) => s.why === 'expired'),
    'the paused holder stopped its slots on its own clock',
  );
  // Whatever a still tries with its old tokens is refused where it lands.
  for (const { slot, token } of aSlots) {
    const refusedBefore = sim.store.staleRefusals;
    assert.deepEqual(await sim.store.take('q', 'a', slot, token, 1), { stale: true });
    assert.deepEqual(
      await sim.store.book('a', {
        limit: 't',
        slot,
        token,
        candidatesUs: [sim.nowNs / 1e3 + 1e5],
        count: 5,
        windowUs: 1e6,
        guardUs: 0,
        notBeforeUs: 0,
      }),
      { stale: true },
    );
    assert.equal(sim.store.staleRefusals, refusedBefore + 2);
  }
});

test('never twice for any pause length around the ttl: the resumed holder runs no tick its lease no longer covers', async () => {
  for (const pause of [0.5, 0.9, 1.0, 1.1, 1.3, 1.6, 2.0]) {
    const sim = new ClusterSim(TTL, INTERVAL, 2);
    const a = sim.addNode('a');
    sim.addNode('b');
    await sim.runUntil(2 * TTL + 7 * MS);
    a.paused = true;
    await sim.runUntil(sim.nowNs + pause * TTL);
    a.paused = false;
    await sim.runUntil(sim.nowNs + 2 * TTL);
    assert.deepEqual(sim.duplicates(), [], `paused ${pause} x ttl`);
  }
});

test('fencing tokens grow at every acquire of a slot, across holders', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 1);
  const a = sim.addNode('a');
  const b = sim.addNode('b');
  await sim.runUntil(TTL);
  const first = [...a.starts, ...b.starts];
  assert.equal(first.length, 1);
  const holder = a.starts.length > 0 ? a : b;
  holder.dead = true;
  await sim.runUntil(3 * TTL);
  const second = (holder === a ? b : a).starts;
  assert.equal(second.length, 1);
  assert.ok(second[0]!.token > first[0]!.token, `token ${second[0]!.token} after ${first[0]!.token}`);
});

test('the store unreachable from a holder: its slots stop by its own clock, move, and it rejoins when back', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 4);
  const a = sim.addNode('a');
  sim.addNode('b');
  await sim.runUntil(2 * TTL);
  const aSlots = a.table.heldSlots().map((h) => h.slot);
  a.cutOff = true;
  const cutAt = sim.nowNs;
  await sim.runUntil(cutAt + 2 * TTL);
  assert.equal(a.table.heldSlots().length, 0);
  for (const slot of aSlots) {
    const stop = a.stops.find((s) => s.slot === slot && s.atNs > cutAt);
    assert.equal(stop?.why, 'expired');
    assert.ok(
      stop.atNs < cutAt + TTL,
      `${slot} stopped ${(stop.atNs - cutAt) / MS} ms after the cut: later than a lease`,
    );
  }
  assert.ok(a.table.counters.roundErrors > 0);
  a.cutOff = false;
  await sim.runUntil(sim.nowNs + 3 * TTL);
  assert.deepEqual(counts(sim), { a: 2, b: 2 });
  assert.deepEqual(sim.duplicates(), []);
});

test('a primary failover: nodes see the new run_id, take no new slot during the quarantine, lost leases run nowhere twice', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 4);
  const a = sim.addNode('a');
  const b = sim.addNode('b');
  await sim.runUntil(2 * TTL);
  const aSlots = a.table.heldSlots().map((h) => h.slot);
  const tokensBefore = a.table.heldSlots().map((h) => h.token);
  // The new primary lost a's leases (an async replica had not got them).
  sim.store.failover(aSlots);
  const failoverAt = sim.nowNs;
  await sim.runUntil(failoverAt + TTL / 3 + 10 * MS);
  assert.equal(a.table.counters.failovers, 1);
  assert.equal(b.table.counters.failovers, 1);
  assert.ok(b.table.quarantined());
  // a's renewals are refused by the new primary: a stops them; nobody takes them during the quarantine.
  assert.equal(a.table.heldSlots().length, 0);
  assert.ok(aSlots.every((slot) => a.stops.some((s) => s.slot === slot && s.why === 'lost')));
  await sim.runUntil(failoverAt + 2 * TTL - 50 * MS);
  for (const slot of aSlots) {
    assert.ok(
      !sim.runs.some((r) => r.slot === slot && r.atNs > failoverAt + TTL / 3 + 10 * MS),
      `${slot} ran during the quarantine`,
    );
  }
  await sim.runUntil(failoverAt + 4 * TTL);
  assertEachSlotOnce(sim);
  assert.deepEqual(sim.duplicates(), []);
  const newTokens = [...a.starts, ...b.starts].filter((s) => s.atNs > failoverAt).map((s) => s.token);
  assert.ok(newTokens.length > 0);
  for (const t of newTokens)
    assert.ok(t > Math.max(...tokensBefore), 'a token after the failover is above every token before it');
});

test('SIGTERM: releaseAll stops every held slot and leaves; the others take them at their next round', async () => {
  const sim = new ClusterSim(TTL, INTERVAL, 4);
  const a = sim.addNode('a');
  sim.addNode('b');
  await sim.runUntil(2 * TTL);
  const aSlots = a.table.heldSlots().map((h) => h.slot);
  await a.table.releaseAll();
  a.dead = true;
  const at = sim.nowNs;
  assert.ok(aSlots.every((slot) => a.stops.some((s) => s.slot === slot && s.why === 'shutdown')));
  await sim.runUntil(at + TTL / 3 + INTERVAL + 2 * MS);
  for (const slot of aSlots)
    assert.ok(
      sim.runs.some((r) => r.slot === slot && r.node === 'b' && r.atNs > at),
      `${slot} not moved within a round and an interval`,
    );
  assert.deepEqual(sim.duplicates(), []);
});
