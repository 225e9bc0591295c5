/**
 * examples/queue-control (the reference's 7.4) with real SIP traffic: sipp calls the front, two
 * timers drain one queue to two sipp UAS, and mid-traffic the real CLI runs the reference's four
 * commands against the example's own `pt.serve` interface: `ptimer rpc ptimer.pause normal_timer`,
 * `ptimer rpc ptimer.continue holiday_timer`, and later back. Every call succeeds at the UAC and
 * reaches exactly one UAS, once, while that UAS's timer was active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sippAvailable } from '../../examples/sip/sipp.js';
import { queueControlProblems, runQueueControl } from '../../examples/queue-control/scenario.js';

test(
  'queue control: pause normal_timer, continue holiday_timer, and back, mid-traffic; every call reaches exactly one UAS',
  { timeout: 90_000 },
  async () => {
    assert.ok(sippAvailable(), 'sipp (Debian sip-tester) must be installed: .ci/run installs it');
    const calls = 180;
    const result = await runQueueControl({ calls, rate: 30, switchesAtMs: [1_500, 3_000] });
    assert.deepEqual(queueControlProblems(result, calls), []);
    assert.equal(result.uac.code, 0, result.uac.output);
    assert.equal(result.uac.successful, calls);
    // Each destination carried calls in its own stretch: before, between and after the switches (each
    // switch is two CLI runs, a few hundred ms here, longer on a loaded machine: low bounds).
    const [first, second] = result.switches;
    const normalBefore = result.invites.normal.filter((i) => i.at < first!.pauseSentAt).length;
    const normalAfter = result.invites.normal.filter((i) => i.at > second!.continueSentAt).length;
    assert.ok(
      normalBefore >= 5 && normalAfter >= 5,
      `normal UAS: ${normalBefore} INVITEs before the first switch, ${normalAfter} after the second`,
    );
    assert.ok(result.invites.holiday.length >= 5, `holiday UAS: ${result.invites.holiday.length} INVITEs`);
    // The commands' answers, as the CLI printed them: the paused timer's worker paused, the other running.
    assert.deepEqual(
      result.switches.map((s) => {
        const p = s.pauseOutput as { timer: string; workers: Array<{ paused: boolean }> };
        const c = s.continueOutput as { timer: string; workers: Array<{ paused: boolean }> };
        return [p.timer, p.workers.map((w) => w.paused), c.timer, c.workers.map((w) => w.paused)];
      }),
      [
        ['normal_timer', [true], 'holiday_timer', [false]],
        ['holiday_timer', [true], 'normal_timer', [false]],
      ],
    );
    assert.equal(result.front.queued, calls, 'every INVITE was queued once (no retransmission queued again)');
  },
);
