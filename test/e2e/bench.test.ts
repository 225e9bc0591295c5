/**
 * Keeps the precision benchmark from rotting: runs it quickly (1 s per case, 1 ms only, quiet
 * scenario) into a temp dir and checks that every approach produced its figures; a program
 * outside Node.js that is missing here (cyclictest, a C compiler) fails its test in one line
 * naming it. Nothing about the machine's speed is asserted: only that each figure exists and
 * is a number.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_APPROACH_NAMES, EXTERNAL_APPROACHES, type CaseResult } from '../../bench/catalog.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'ptimer-bench-test-'));
let run: ReturnType<typeof spawnSync>;
let results: CaseResult[] = [];

before(() => {
  run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/run.ts',
      '--quick',
      '--only',
      '1ms',
      '--scenario',
      'quiet',
      '--scale',
      '64x10ms',
      '--out',
      outDir,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 150_000 },
  );
  if (existsSync(join(outDir, 'latest.json'))) {
    results = (JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as { results: CaseResult[] }).results;
  }
});

after(() => rmSync(outDir, { recursive: true, force: true }));

test('the bench runs to its end and writes the report, the raw figures and the chart', () => {
  assert.equal(
    run.status,
    0,
    `bench exited ${run.status} (${run.signal ?? 'no signal'}):\n${String(run.stderr).slice(-3000)}`,
  );
  assert.match(String(run.stdout), /\| approach \| period \| p50/);
  assert.match(readFileSync(join(outDir, 'latest.md'), 'utf8'), /### Targets/);
  assert.match(readFileSync(join(outDir, 'lateness-1ms.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
});

test('the scale scenario ran its case beside the C threads, and the report shows it', () => {
  const record = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as {
    scale: Array<{
      name: string;
      workers: number;
      threads: number;
      cpuPercent: number;
      rssMb: number;
      dueTicks: number;
      c: { made: number } | null;
    }>;
  };
  const [scale] = record.scale;
  assert.equal(scale?.name, '64x10ms');
  assert.equal(scale.workers, 64);
  assert.ok(scale.threads >= 1 && scale.threads <= 64, `threads: ${scale.threads}`);
  assert.ok(scale.dueTicks > 0 && Number.isFinite(scale.cpuPercent) && scale.rssMb > 0);
  if (scale.c) assert.ok(scale.c.made > 0, 'the C threads ran');
  assert.match(readFileSync(join(outDir, 'latest.md'), 'utf8'), /### Scale: many timers and workers/);
});

for (const approach of ALL_APPROACH_NAMES) {
  test(`${approach} at 1 ms produced its figures`, () => {
    const result = results.find((r) => r.approach === approach && r.period === '1ms' && r.scenario === 'quiet');
    assert.ok(result, `no result for ${approach}`);
    // A tool the bench runs beside ptimer (cyclictest, a C compiler, ...) is required: CI installs
    // them all, and a missing one fails here in one line naming it, never passes as a skip.
    if (result.status === 'unavailable' && EXTERNAL_APPROACHES.includes(approach)) {
      assert.fail(`${approach} could not run: ${result.reason ?? 'its tool is missing'} (.ci/run installs it)`);
    }
    assert.equal(result.status, 'ok', `${approach}: ${result.status}: ${result.reason}`);
    const f = result.figures!;
    for (const [name, value] of Object.entries({ p50: f.p50Us, p99: f.p99Us, p999: f.p999Us, max: f.maxUs })) {
      assert.ok(Number.isFinite(value), `${approach} ${name} is ${value}`);
    }
    assert.ok(f.runsMade > 0, `${approach} made no runs`);
    assert.ok(f.runsDue > 0, `${approach} had no runs due`);
    assert.ok(f.curve.length > 0, `${approach} has no percentile curve`);
    if (approach !== 'cyclictest') assert.ok(Number.isFinite(f.driftUs), `${approach} has no drift figure`);
    assert.ok(
      result.cpuPercent === null || Number.isFinite(result.cpuPercent),
      `${approach} CPU is ${result.cpuPercent}`,
    );
    if (approach.startsWith('ptimer')) {
      const nworkers = approach === 'ptimer-synced-slice-8w' ? 8 : 1;
      assert.equal(result.workers?.length, nworkers, `${approach}: figures for ${result.workers?.length} workers`);
    }
  });
}
