/**
 * The rate-shaping example with real SIP traffic (needs sipp, Debian's sip-tester, and a built
 * dist/: `npm run build`):
 *
 *   node --import tsx examples/rate-shaping/main.ts [--burst 300] [--rate 30] [--seconds 20] [--cancels 20] [--svg FILE]
 *
 * A burst of calls in one second, then a steady rate, through the front to a synced slice
 * timer that releases 50 per second to a sipp UAS, `limit=50/1s`. It prints the most INVITEs in
 * any sliding second at the UAS, the counts per 100 ms slot, the release lateness and the
 * throughput while the backlog lasted, and exits 1 unless every call was answered, none twice,
 * and no sliding second held more than 50 releases. --cancels callers send CANCEL while their INVITE
 * still waits behind the burst: the forwarder answers them 200 and 487 and drops the call from the queue. `--svg FILE` also draws the calls per 100 ms
 * in and out (examples/rate-shaping/calls-per-100ms.svg is one, shown in docs/examples.md).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderCallsChart } from '../sip/calls-chart.js';
import { rateShapingProblems, runRateShaping } from './scenario.js';

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '300' },
    rate: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '20' },
    cancels: { type: 'string', default: '20' },
    svg: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'usage: node --import tsx examples/rate-shaping/main.ts [--burst N (0-5000)] [--rate CPS (0-200)] [--seconds S (0-300)] [--cancels N (0-1000)] [--svg FILE]',
  );
  process.exit(0);
}

const r = await runRateShaping({
  burst: Number(values.burst),
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  cancels: Number(values.cancels),
  say: (l) => console.log(l),
});
const wrong = rateShapingProblems(r);
console.log(
  `calls: ${r.calls}; answered: ${r.uac.reduce((s, u) => s + u.successful, 0)}; INVITEs at the UAS: ${r.invitesAtUas}, twice: ${r.duplicates.length}`,
);
console.log(
  `most INVITEs in any sliding 1 s at the upstream: ${r.maxPerSecond} (from ${r.busiest.startMsAfterFirst.toFixed(1)} ms after the first); at release: ${r.maxPerSecondAtRelease}; by the relay's reads: ${r.maxPerSecondRead}`,
);
console.log(
  `slack (least spacing of a call and the 50th after it, minus 1 s): ${r.slackUs.atRelease.toFixed(0)} us at release, ${r.slackUs.atUas.toFixed(0)} us at the upstream`,
);
console.log(
  `while the backlog lasted: ${r.backlogSlotsWithFive} of ${r.backlogSlots} slots of 100 ms carried 5; ${r.backlogThroughput.toFixed(2)} calls/s`,
);
console.log(`released per slot: ${r.perSlotReleased.join(' ')}`);
console.log(`at the UAS per slot: ${r.perSlotAtUas.join(' ')}`);
console.log(
  `release lateness against the slot: p50 ${r.latenessUs.p50.toFixed(1)} us, p99 ${r.latenessUs.p99.toFixed(1)} us, max ${r.latenessUs.max.toFixed(1)} us`,
);
console.log(
  `release lateness p99 over the backlog's first 5 s: ${r.backlogLatenessUs.firstP99.toFixed(1)} us; over its last 5 s: ${r.backlogLatenessUs.lastP99.toFixed(1)} us (a backlog of ${r.backlogLatenessUs.seconds.toFixed(1)} s)`,
);
console.log(
  `send length: p50 ${r.sendUs.p50.toFixed(0)} us, p99 ${r.sendUs.p99.toFixed(0)} us, max ${r.sendUs.max.toFixed(0)} us`,
);
console.log(
  `send (its beginning) to arrival at the upstream: p50 ${r.transitUs.p50.toFixed(0)} us, p99 ${r.transitUs.p99.toFixed(0)} us, min ${r.transitUs.min.toFixed(0)} us, max ${r.transitUs.max.toFixed(0)} us`,
);
if (r.cancelUac)
  console.log(
    `cancelled while queued: ${r.front.cancelledQueued}; the cancelling UAC: ${r.cancelUac.successful} got 200 and 487, ${r.cancelUac.failed} failed`,
  );
console.log(
  wrong.length === 0
    ? 'ok: every call answered once, never more than 50 in a second, released or at the upstream'
    : `problems: ${wrong.join('; ')}`,
);
if (values.svg) {
  const svg = await renderCallsChart({
    arrivals: r.arrivalsNs,
    releases: r.releasesNs,
    slotNs: 100e6,
    ratePerSlot: 5,
    title: `Rate shaping: INVITEs per 100 ms, in and out (${values.burst} in 1 s, then ${values.rate}/s for ${values.seconds} s)`,
    subtitle: [
      'in: queued at the front; out: released upstream by the shaper (2 workers of a synced slice timer, limit=50/1s)',
      `dashed: 5 per 100 ms (50/s). ${r.backlogSlotsWithFive} of ${r.backlogSlots} slots carried 5 while the backlog lasted;`,
      `at most ${r.maxPerSecondAtRelease} released in any sliding 1 s; release lateness p50 ${(r.latenessUs.p50 / 1000).toFixed(2)} ms, p99 ${(r.latenessUs.p99 / 1000).toFixed(2)} ms`,
    ],
  });
  writeFileSync(values.svg, svg);
  console.log(`chart: ${values.svg}`);
}
process.exitCode = wrong.length === 0 ? 0 : 1;
