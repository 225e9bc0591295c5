/** Timer attributes thread, paused and limit (runtime and data-plane issues), in both forms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';

function timerOf(timer: unknown) {
  return resolveConfig({ timer, loop: 'timer=t;route=L' }).timers[0]!;
}

function assertConfigError(timer: unknown, param: string, allowed: RegExp): void {
  assert.throws(
    () => resolveConfig({ timer, loop: 'timer=t;route=L' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.param, param);
      assert.match(error.message, allowed);
      return true;
    },
  );
}

test('thread: pool by default; pool, own or a group name in either form', () => {
  assert.deepEqual(timerOf('name=t').thread, { kind: 'pool' });
  assert.deepEqual(timerOf('name=t;thread=pool').thread, { kind: 'pool' });
  assert.deepEqual(timerOf('name=t;thread=own').thread, { kind: 'own' });
  assert.deepEqual(timerOf('name=t;thread=carriers.eu-1').thread, { kind: 'group', name: 'carriers.eu-1' });
  assert.deepEqual(timerOf({ name: 't', thread: 'own' }).thread, { kind: 'own' });
  assert.deepEqual(timerOf({ name: 't', thread: 'g' }).thread, { kind: 'group', name: 'g' });
});

test('a bad thread is an error listing what is allowed', () => {
  const allowed =
    /expected "pool" \(the shared pool, the default\), "own" \(a thread per worker\) or a group name: expected a non-empty name/;
  assertConfigError('name=t;thread=', 'timer "t": thread', allowed);
  assertConfigError('name=t;thread=a b', 'timer "t": thread', allowed);
  assertConfigError({ name: 't', thread: 1 }, 'timer "t": thread', allowed);
  assertConfigError({ name: 't', thread: 'x'.repeat(129) }, 'timer "t": thread', allowed);
});

test('paused: 0 or 1 in a string; false, true, 0 or 1 in an object; default false', () => {
  assert.equal(timerOf('name=t').paused, false);
  assert.equal(timerOf('name=t;paused=1').paused, true);
  assert.equal(timerOf('name=t;paused=0').paused, false);
  assert.equal(timerOf({ name: 't', paused: true }).paused, true);
  assert.equal(timerOf({ name: 't', paused: 1 }).paused, true);
  assert.equal(timerOf({ name: 't', paused: false }).paused, false);
  const allowed = /expected 0 or 1 \(in an object also false or true\)$/;
  for (const bad of ['name=t;paused=yes', 'name=t;paused=2', 'name=t;paused=true', 'name=t;paused='])
    assertConfigError(bad, 'timer "t": paused', allowed);
  assertConfigError({ name: 't', paused: 2 }, 'timer "t": paused', allowed);
  assertConfigError({ name: 't', paused: 'on' }, 'timer "t": paused', allowed);
});

test('limit: N/W to count, window and canonical text; default none', () => {
  assert.equal(timerOf('name=t').limit, null);
  assert.deepEqual(timerOf('name=t;limit=50/1s').limit, { count: 50, windowNs: 1e9, text: '50/1s' });
  assert.deepEqual(timerOf('name=t;limit=20/1000ms').limit, { count: 20, windowNs: 1e9, text: '20/1s' });
  assert.deepEqual(timerOf('name=t;limit=5/100ms').limit, { count: 5, windowNs: 100e6, text: '5/100ms' });
  assert.deepEqual(timerOf('name=t;limit=7/2').limit, { count: 7, windowNs: 2e9, text: '7/2s' });
  assert.deepEqual(timerOf({ name: 't', limit: ' 1000000000 / 24h'.replace('24h', '86400s') }).limit, {
    count: 1e9,
    windowNs: 86400e9,
    text: '1000000000/86400s',
  });
});

test('a bad limit is an error saying what N/W is', () => {
  const expected =
    /expected N\/W: N items \(an integer from 1 to 1000000000\) in any window W \(a duration such as 1s, 100ms or 60s, at most 86400s\), e\.g\. 50\/1s/;
  for (const bad of [
    '50',
    '50/',
    '/1s',
    '0/1s',
    '-1/1s',
    '1.5/1s',
    '50/0',
    '50/1m',
    '50/1s/2',
    'x/1s',
    '1000000001/1s',
    '1/86401s',
    '50/1.5s',
  ]) {
    assertConfigError(`name=t;limit=${bad}`, 'timer "t": limit', expected);
  }
  assertConfigError({ name: 't', limit: 50 }, 'timer "t": limit', expected);
  assertConfigError('name=t;limit=0/1s', 'timer "t": limit', /N "0" is not an integer from 1 to 1000000000$/);
  assertConfigError('name=t;limit=5/1m', 'timer "t": limit', /W: .*"m" is not a unit/);
});

test('the new keys are timer attributes, not warnings', () => {
  const resolved = resolveConfig({ timer: 'name=t;thread=own;paused=1;limit=1/1s', loop: 'timer=t;route=L' });
  assert.deepEqual(resolved.warnings, []);
});
