/**
 * /metrics prints no binary noise: every sample keeps at most 12 significant digits
 * (`0.005721988999999999` is printed `0.005721989`), prom-client's process metrics included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, roundSamples } from '../../src/rpc/metrics.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

test('roundSamples: noisy values rounded, exact ones, labels, comments and NaN untouched', () => {
  const text = [
    '# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.',
    'process_cpu_user_seconds_total 0.005721988999999999',
    'ptimer_loop_lateness_seconds{timer="a b",worker="0",quantile="0.99"} 0.00014000000000000001',
    'tiny 3.0000000000000004e-7',
    'ptimer_workers{timer="q"} 2',
    'half 1.5',
    'none NaN',
    '',
  ].join('\n');
  assert.equal(
    roundSamples(text),
    [
      '# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.',
      'process_cpu_user_seconds_total 0.005721989',
      'ptimer_loop_lateness_seconds{timer="a b",worker="0",quantile="0.99"} 0.00014',
      'tiny 3e-7',
      'ptimer_workers{timer="q"} 2',
      'half 1.5',
      'none NaN',
      '',
    ].join('\n'),
  );
});

test('a rendered exposition has no sample with more than 12 significant digits', async () => {
  const metrics = createMetrics(new FakeControl([{ name: 'queue', nworkers: 2 }]));
  // Burn a little CPU so that the process CPU counters hold fractions.
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
  assert.ok(x > 0);
  const text = await metrics.render();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const value = line.slice(line.lastIndexOf(' ') + 1);
    const digits = value.replace(/e.*$/i, '').replace(/[-.]/g, '').replace(/^0+/, '');
    assert.ok(digits.length <= 12 || !Number.isFinite(Number(value)), line);
  }
});
