/**
 * Where timers' grid origins go (src/runtime/grid-origin.ts): on 1 ms steps, never in the past,
 * at most SLOT_CAPACITY timers of one interval per step on a thread, the steps wrapping round
 * the interval, the least loaded step once every one is full; and one origin per timer, fixed
 * by the first worker that asks, whatever the others pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ORIGIN_QUANTUM_NS,
  OriginSlots,
  SLOT_CAPACITY,
  allocateOrigin,
  gridOrigin,
} from '../../src/runtime/grid-origin.js';

const Q = ORIGIN_QUANTUM_NS;
const MS = 1_000_000;

test('a step takes SLOT_CAPACITY timers of one interval, the next timer goes to the next step, none in the past', () => {
  const slots = new OriginSlots();
  const now = 5.3 * Q;
  const origins = Array.from({ length: SLOT_CAPACITY * 2 + 1 }, () => slots.place(now, 10 * MS));
  for (const o of origins) {
    assert.ok(o >= now, `origin ${o} is before now ${now}`);
    assert.equal(o % Q, 0, `origin ${o} is not on a ${Q} ns step`);
  }
  assert.deepEqual([...new Set(origins)], [6 * Q, 7 * Q, 8 * Q]);
  assert.equal(origins.filter((o) => o === 6 * Q).length, SLOT_CAPACITY);
  assert.equal(origins.filter((o) => o === 7 * Q).length, SLOT_CAPACITY);
  assert.equal(origins.filter((o) => o === 8 * Q).length, 1);
});

test('steps are counted per interval, and round the interval: a later start reuses a step with room', () => {
  const slots = new OriginSlots();
  for (let i = 0; i < SLOT_CAPACITY; i++) assert.equal(slots.place(0, 10 * MS), Q);
  // Another interval has steps of its own.
  assert.equal(slots.place(0, 100 * MS), Q);
  // 10 ms later, step 11 is step 1 again (11 mod 10), which is full: the next one, 12, has room.
  assert.equal(slots.place(10.5 * MS, 10 * MS), 12 * Q);
  // Step 10 is step 0, which nobody took.
  assert.equal(slots.place(9.5 * MS, 10 * MS), 10 * Q);
  // Exactly on a step: that step.
  assert.equal(slots.place(13 * Q, 10 * MS), 13 * Q);
});

test('once every step of the interval is full, the least loaded one is used', () => {
  const slots = new OriginSlots();
  // 2 ms: two steps of 1 ms, room for 2 * SLOT_CAPACITY.
  for (let i = 0; i < 2 * SLOT_CAPACITY; i++) slots.place(0, 2 * MS);
  const next = [slots.place(0, 2 * MS), slots.place(0, 2 * MS), slots.place(0, 2 * MS)];
  // Steps 1 and 2 hold 16 each: 1 gets the 17th, then 2 (now the less loaded), then 1 again.
  assert.deepEqual(next, [Q, 2 * Q, Q]);
});

test('an interval under one step still gets an origin on a step', () => {
  const slots = new OriginSlots();
  const o = slots.place(0.2 * Q, 100_000);
  assert.equal(o, Q);
});

test("a timer's origin is fixed by its first worker: every other worker, and a later ask, gets it", () => {
  const buffer = allocateOrigin();
  const slotsA = new OriginSlots();
  const slotsB = new OriginSlots();
  const first = gridOrigin(buffer, 10 * MS, slotsA)(3.5 * Q);
  assert.equal(first, 4 * Q);
  // A worker on another thread, asking later with its own slots, joins the same grid.
  assert.equal(gridOrigin(buffer, 10 * MS, slotsB)(50 * Q), first);
  // The same worker asking again (sent back to start, restarted) too.
  assert.equal(gridOrigin(buffer, 10 * MS, slotsA)(99 * Q), first);
  // The second thread placed nothing: its steps are all free for its own timers.
  assert.equal(slotsB.place(0, 10 * MS), Q);
});

test('a slot is counted only for the winner: a thread whose origin lost the race to another thread gives its slot back', () => {
  const interval = 10 * MS;
  /** Another thread sets the origin between this thread's read and its compareExchange: its place() is where that happens. */
  class Racing extends OriginSlots {
    buffer: SharedArrayBuffer | null = null;
    override place(now: number, intervalNs: number): number {
      const proposed = super.place(now, intervalNs);
      if (this.buffer) Atomics.store(new BigInt64Array(this.buffer), 0, BigInt(7 * Q));
      return proposed;
    }
  }
  const here = new Racing();
  for (let t = 0; t < SLOT_CAPACITY; t++) {
    here.buffer = allocateOrigin();
    assert.equal(gridOrigin(here.buffer, interval, here)(Q), 7 * Q, "the winner's origin");
  }
  // This thread's own timer still gets the first step: the losing proposals did not fill it.
  here.buffer = null;
  assert.equal(gridOrigin(allocateOrigin(), interval, here)(Q), Q);
});
