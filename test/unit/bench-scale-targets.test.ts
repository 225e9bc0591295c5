/**
 * The runtime's targets (bench/scale-targets.ts) are judged from the run's own figures: each
 * verdict follows its figure across the limit, and a case the run did not measure is "not
 * measured", never "yes".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkScaleTargets, renderScaleTargets } from '../../bench/scale-targets.js';
import type { ScaleResult } from '../../bench/scale.js';
import type { CaseResult } from '../../bench/catalog.js';

function scaleCase(name: string, over: Partial<ScaleResult> = {}): ScaleResult {
  return {
    name,
    what: name,
    runMs: 200,
    cpuPercent: 5,
    rssMb: 100,
    threads: 2,
    workers: 64,
    worstP99Us: 200,
    medianP99Us: 100,
    workersOver250Us: 0,
    medianP50Us: 10,
    schedulerCpuPercent: 4,
    worstDroppedPercent: 0,
    droppedTicks: 0,
    dueTicks: 1000,
    startupCpuPercent: 6,
    c: { cpuPercent: 3, rssMb: 20, late: 0, made: 1000, worstP99Us: 300, medianP99Us: 250 },
    cScheduler: {
      threads: 2,
      cpuPercent: 1,
      rssMb: 2,
      worstP99Us: 180,
      medianP99Us: 90,
      workersOver250Us: 0,
      medianP50Us: 60,
      worstDroppedPercent: 0.1,
      droppedTicks: 1,
      dueTicks: 1000,
    },
    ...over,
  };
}

function precision(approach: string, p50Us: number, p99Us: number, cpuPercent: number): CaseResult {
  return {
    approach,
    periodNs: 1_000_000,
    scenario: 'quiet',
    status: 'ok',
    cpuPercent,
    figures: { p50Us, p99Us },
  } as unknown as CaseResult;
}

const verdicts = (checks: ReturnType<typeof checkScaleTargets>) =>
  Object.fromEntries(checks.map((c) => [c.target, c.holds]));

test('each runtime target holds or fails by its own figure from the same run', () => {
  const good = verdicts(
    checkScaleTargets(
      [
        scaleCase('64x10ms'),
        scaleCase('1000x100ms', { workers: 1000 }),
        scaleCase('1x32at1ms', { cpuPercent: 20, worstDroppedPercent: 0.4 }),
        scaleCase('1x1ms', { cpuPercent: 4.5 }),
      ],
      [precision('ptimer-sync', 1, 90, 9), precision('cyclictest', 60, 120, 3), precision('c-nanosleep', 60, 150, 3)],
    ),
  );
  assert.ok(
    Object.values(good).every((v) => v === 'yes'),
    JSON.stringify(good),
  );

  const bad = verdicts(
    checkScaleTargets(
      [
        scaleCase('64x10ms', { cpuPercent: 8.1 }),
        scaleCase('1000x100ms', { worstP99Us: 251, droppedTicks: 1, runMs: 1001 }),
        scaleCase('1x32at1ms', { worstDroppedPercent: 0.51 }),
        scaleCase('1x1ms', { cpuPercent: 4.6 }),
      ],
      [
        precision('ptimer-sync', 2.1, 121, 1),
        precision('cyclictest', 60, 120, 3),
        precision('c-nanosleep', 60, 150, 3),
      ],
    ),
  );
  for (const target of [
    '64 x 10 ms: CPU <= 8 % of one core',
    '1,000 x 100 ms: per-worker lateness p99 <= 250 us',
    '1,000 x 100 ms: no tick dropped',
    '1,000 x 100 ms: run() <= 1000 ms',
    '1 x 32 workers at 1 ms: <= 0.5 % of ticks dropped per worker',
    '1 sync timer at 1 ms: p50 <= 2 us',
    '1 sync timer at 1 ms: p99 no worse than the OS reference',
    '1 sync timer at 1 ms: CPU <= 1.5x the C clock_nanosleep loop',
  ])
    assert.equal(bad[target], 'no', target);
  assert.equal(bad['64 x 10 ms: RSS <= 150 MB'], 'yes');
});

test('a case the run did not measure is not judged', () => {
  const checks = checkScaleTargets([scaleCase('64x10ms')], []);
  const v = verdicts(checks);
  assert.equal(v['64 x 10 ms: CPU <= 8 % of one core'], 'yes');
  assert.equal(v['1,000 x 100 ms: per-worker lateness p99 <= 250 us'], 'not measured');
  assert.equal(v['1 sync timer at 1 ms: CPU <= 1.5x the C clock_nanosleep loop'], 'not measured');
  assert.match(renderScaleTargets(checks), /Not judged \(their cases were not part of this run\): .*1,000 x 100 ms/);
});
