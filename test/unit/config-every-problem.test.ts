// One mistake in a config neither hides the next nor brings a false one: resolveConfig reports
// every independent problem at once (ConfigErrors), and a Kamailio-style file locates each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError, ConfigErrors, MAX_LISTED_PROBLEMS } from '../../src/config/errors.js';
import { parseKamailioCfg, resolveKamailioCfg, KamailioCfgError } from '../../src/config/kamailio-cfg.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}

test('independent problems are all reported, each with its origin', () => {
  const error = thrown(() =>
    resolveConfig({
      default_intervall: '1s',
      default_type: 7,
      timer: ['name=a;interval=2x', 'name=b'],
      loop: ['timer=b;route=L'],
      queue: ['name=q;size=0'],
    }),
  );
  assert.ok(error instanceof ConfigErrors, String(error));
  assert.deepEqual(
    error.errors.map((problem) => problem.param),
    ['config', 'default_type', 'timer "a": interval', 'queue "q": size'],
  );
  assert.match(error.message, /^config: 4 problems:\n/);
  assert.match(error.message, /default_intervall.*did you mean 'default_interval'/);
  assert.match(error.message, /default_type: 7 is not valid/);
  assert.match(error.message, /timer "a": interval/);
  assert.match(error.message, /queue "q": size/);
  assert.deepEqual(
    error.errors.map((problem) => problem.origin),
    [undefined, { key: 'default_type' }, { key: 'timer', index: 0 }, { key: 'queue', index: 0 }],
  );
  assert.deepEqual(error.origin, undefined, 'the first problem (an unknown key) has no item');
});

test('a part that depends on a refused one is not reported again', () => {
  // Timer "a" is refused: its loop route is not also "a route for no timer", nor "a" "a timer without loop".
  const error = thrown(() => resolveConfig({ timer: ['name=a;type=9'], loop: ['timer=a;route=L'] }));
  assert.ok(error instanceof ConfigError && !(error instanceof ConfigErrors), String(error));
  assert.match(error.message, /^timer "a": type: "9" is not valid/);
  // A refused loop route does not make its timer "a timer without a loop route".
  const second = thrown(() =>
    resolveConfig({ timer: ['name=a'], loop: ['timer=a;route=L', 'timer=a;route=M'], start: 'timer=zz;route=S' }),
  );
  assert.ok(second instanceof ConfigErrors, String(second));
  assert.deepEqual(
    second.errors.map((problem) => problem.origin),
    [
      { key: 'start', index: 0 },
      { key: 'loop', index: 1 },
    ],
  );
});

test('one problem is thrown as itself; a long list is cut and counted', () => {
  const one = thrown(() => resolveConfig({ default_nworkers: 0 }));
  assert.ok(one instanceof ConfigError && !(one instanceof ConfigErrors));
  const many = MAX_LISTED_PROBLEMS + 5;
  const error = thrown(() => resolveConfig({ queue: Array.from({ length: many }, (_, i) => `name=q${i};size=0`) }));
  assert.ok(error instanceof ConfigErrors);
  assert.equal(error.errors.length, many);
  assert.equal(error.message.split('\n').filter((line) => line.startsWith('  - ')).length, MAX_LISTED_PROBLEMS);
  assert.match(error.message, /\n {2}\.\.\. and 5 more$/);
});

test('a Kamailio-style file locates every problem at its own modparam line', () => {
  const text = [
    'modparam("ptimer", "default_type", 9)',
    'loadmodule "ptimer.so"',
    'modparam("ptimer", "default_nworkers", 0)',
  ].join('\n');
  const error = thrown(() => resolveKamailioCfg(parseKamailioCfg(text, 'k.cfg')));
  assert.ok(error instanceof KamailioCfgError, String(error));
  assert.equal(error.line, 1);
  assert.match(
    error.message,
    /^k\.cfg:1:\d+: config: 2 problems:\n {2}- k\.cfg:1:\d+: default_type: 9 .*\n {2}- k\.cfg:3:\d+: default_nworkers: 0 /,
  );
});
