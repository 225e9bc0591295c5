/**
 * examples/queue-control (the reference's 7.4) with real SIP traffic: sipp calls the front, two
 * timers drain one queue to two sipp UAS, and mid-traffic the real CLI runs
 * `ptimer rpc ptimer.pause normal_timer` and `ptimer rpc ptimer.continue holiday_timer` against the
 * example's own `pt.serve` interface. Every call succeeds at the UAC and reaches exactly one UAS;
 * the normal UAS gets nothing after the pause, the holiday UAS nothing before the continue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sippAvailable } from '../../examples/sip/sipp.js';
import { queueControlProblems, runQueueControl } from '../../examples/queue-control/scenario.js';

test('queue control: pause normal_timer, continue holiday_timer mid-traffic; every call reaches exactly one UAS', { timeout: 90_000 }, async () => {
  assert.ok(sippAvailable(), 'sipp (Debian sip-tester) must be installed: .ci/run installs it');
  const calls = 150;
  const result = await runQueueControl({ calls, rate: 30, switchAfterMs: 2_500 });
  assert.deepEqual(queueControlProblems(result, calls), []);
  assert.equal(result.uac.code, 0, result.uac.output);
  assert.equal(result.uac.successful, calls);
  // Both destinations carried calls: the switch happened inside the traffic.
  assert.ok(result.invites.normal.length >= 30, `normal UAS: ${result.invites.normal.length} INVITEs`);
  assert.ok(result.invites.holiday.length >= 30, `holiday UAS: ${result.invites.holiday.length} INVITEs`);
  // The commands' answers, as the CLI printed them: each worker paused / running.
  const pause = result.commands.pause as { timer: string; workers: Array<{ paused: boolean }> };
  const resumed = result.commands.continue as { timer: string; workers: Array<{ paused: boolean }> };
  assert.equal(pause.timer, 'normal_timer');
  assert.deepEqual(pause.workers.map((w) => w.paused), [true]);
  assert.equal(resumed.timer, 'holiday_timer');
  assert.deepEqual(resumed.workers.map((w) => w.paused), [false]);
  assert.equal(result.front.queued, calls, 'every INVITE was queued once (no retransmission queued again)');
});
