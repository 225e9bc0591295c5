/**
 * The rate-shaping chart (examples/sip/calls-chart.ts): counts per slot from one origin for both
 * series, the bounds, and an SVG with both series and the rate line (vega renders it in-process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCallsChart, slotCounts } from '../../examples/sip/calls-chart.js';

test('slotCounts: both series from the earliest time, slot k = [origin + k*slot, origin + (k+1)*slot)', () => {
  const c = slotCounts({
    arrivals: [1_000, 1_050, 1_099, 1_100, 1_350],
    releases: [1_020, 1_120, 1_199, 1_200],
    slotNs: 100,
  });
  assert.equal(c.origin, 1_000);
  assert.deepEqual(c.arrivals, [3, 1, 0, 1]);
  assert.deepEqual(c.releases, [1, 2, 1, 0]);
  assert.deepEqual(slotCounts({ arrivals: [], releases: [], slotNs: 100 }), { origin: 0, arrivals: [], releases: [] });
  assert.throws(() => slotCounts({ arrivals: [0], releases: [], slotNs: 0 }), /slotNs must be > 0; got 0/);
  assert.throws(
    () => slotCounts({ arrivals: [0, NaN], releases: [], slotNs: 1 }),
    /a time is not a finite number: NaN/,
  );
  assert.throws(
    () => slotCounts({ arrivals: [0, 1e9], releases: [], slotNs: 1 }),
    /span 1000000001 slots; at most 100000/,
  );
});

test('renderCallsChart: an SVG with the title, both series and the rate line', async () => {
  const arrivals = Array.from({ length: 60 }, (_, i) => i * 1e7); // 60 in 0.6 s
  const releases = Array.from({ length: 60 }, (_, i) => Math.floor(i / 5) * 1e8 + 1e5); // 5 per 100 ms
  const svg = await renderCallsChart({
    arrivals,
    releases,
    slotNs: 1e8,
    ratePerSlot: 5,
    title: 'test chart',
    subtitle: ['a subtitle'],
  });
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const text of [
    'test chart',
    'a subtitle',
    'in: INVITEs arriving',
    'out: INVITEs released upstream',
    'INVITEs per 100 ms slot',
  ])
    assert.ok(svg.includes(text), `the SVG shows "${text}"`);
  assert.ok(svg.includes('stroke-dasharray="4,3"'), 'the rate line is drawn');
});
