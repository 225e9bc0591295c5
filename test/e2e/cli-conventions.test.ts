/**
 * One convention each across the CLI: `-o/--output` wherever a format is chosen (check too, with
 * --json its short form), results on stdout and warnings/notices on stderr, and a did-you-mean
 * only for a slip (not `fish` -> `bash`, not `-o` -> `-D`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../fixtures/cli/harness.js';

const CFG = 'test/fixtures/kamailio/7.1-call-rate.cfg';
const ROUTES = 'test/fixtures/kamailio/routes.ts';

test('check -o json and --json print the same JSON on stdout; -o table (the default) the timers, notices on stderr', async () => {
  const o = await runCli(['check', CFG, '--routes', ROUTES, '-o', 'json']);
  assert.equal(o.code, 0, o.stderr);
  const json = await runCli(['check', CFG, '--routes', ROUTES, '--json']);
  assert.deepEqual(JSON.parse(o.stdout), JSON.parse(json.stdout));
  assert.ok(JSON.parse(o.stdout).notices.length > 0, 'the notices are part of the JSON');
  const table = await runCli(['check', CFG, '--routes', ROUTES, '-o', 'table']);
  assert.match(table.stdout, /: OK, 1 timer\n/);
  assert.doesNotMatch(table.stdout, /notice:/);
  assert.match(table.stderr, /^notice: /m);
  const bad = await runCli(['check', CFG, '-o', 'yaml']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'ptimer check: --output must be one of table, json, got "yaml" (see ptimer check --help)\n');
});

test('no did-you-mean for another word: completion fish, check -q', async () => {
  const fish = await runCli(['completion', 'fish']);
  assert.equal(fish.code, 2);
  assert.doesNotMatch(fish.stderr, /did you mean/);
  const q = await runCli(['check', CFG, '-q']);
  assert.equal(q.code, 2);
  assert.doesNotMatch(q.stderr, /did you mean/);
  const slip = await runCli(['chekc', CFG]);
  assert.match(slip.stderr, /did you mean 'check'\?/);
});
