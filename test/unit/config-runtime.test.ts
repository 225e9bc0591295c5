/** ptimer's own runtime parameters: default_threads, restart_limit, startup_timeout, command_timeout, stuck_after. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../src/config/errors.js';
import { CONFIG_KEYS, resolveConfig } from '../../src/config/resolve.js';

function assertConfigError(config: unknown, param: string, allowed: RegExp): void {
  assert.throws(
    () => resolveConfig(config),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.param, param);
      assert.ok(error.message.startsWith(`${param}: `), error.message);
      assert.match(error.message, allowed);
      assert.deepEqual(error.origin, { key: param });
      return true;
    },
  );
}

test('the parameters are config keys', () => {
  for (const key of [
    'default_threads',
    'restart_limit',
    'startup_timeout',
    'command_timeout',
    'stuck_after',
    'queue',
    'table',
  ]) {
    assert.ok((CONFIG_KEYS as readonly string[]).includes(key), key);
  }
});

test("defaults: the machine's parallelism, 5 deaths in 60s, 10s, 5s, 10 intervals", () => {
  assert.deepEqual(resolveConfig({}).runtime, {
    threads: Math.min(256, availableParallelism()),
    restartLimit: { deaths: 5, windowMs: 60_000 },
    startupTimeoutMs: 10_000,
    commandTimeoutMs: 5_000,
    stuckAfterIntervals: 10,
    maxHeapMb: 1024,
  });
});

test('values in the forms a config module or a Kamailio-style file gives', () => {
  const runtime = resolveConfig({
    default_threads: '8',
    restart_limit: '3/10s',
    startup_timeout: '500ms',
    command_timeout: 2,
    stuck_after: 100,
  }).runtime;
  assert.deepEqual(runtime, {
    threads: 8,
    restartLimit: { deaths: 3, windowMs: 10_000 },
    startupTimeoutMs: 500,
    commandTimeoutMs: 2_000,
    stuckAfterIntervals: 100,
    maxHeapMb: 1024,
  });
  assert.equal(resolveConfig({ startup_timeout: '150500us' }).runtime.startupTimeoutMs, 150.5);
});

test('bounds: each value outside its range is an error naming the range', () => {
  assertConfigError({ default_threads: 0 }, 'default_threads', /expected a number of threads from 1 to 256$/);
  assertConfigError({ default_threads: 257 }, 'default_threads', /from 1 to 256; at most 256$/);
  assertConfigError({ default_threads: 'four' }, 'default_threads', /from 1 to 256/);
  assertConfigError({ stuck_after: 0 }, 'stuck_after', /expected a number of intervals from 1 to 1000000$/);
  assertConfigError({ max_heap: 8 }, 'max_heap', /expected a heap size in MB per scheduler thread from 16 to 65536$/);
  assert.equal(resolveConfig({ max_heap: 64 }).runtime.maxHeapMb, 64);
  assertConfigError({ stuck_after: 1_000_001 }, 'stuck_after', /at most 1000000$/);
  assertConfigError(
    { startup_timeout: '99ms' },
    'startup_timeout',
    /expected a duration from 100ms to 600s \(no unit means seconds\)$/,
  );
  assertConfigError({ startup_timeout: '601s' }, 'startup_timeout', /from 100ms to 600s/);
  assertConfigError(
    { startup_timeout: 'soon' },
    'startup_timeout',
    /expected a positive integer with an optional unit s, ms or us.*; from 100ms to 600s$/,
  );
  assertConfigError({ command_timeout: '9ms' }, 'command_timeout', /from 10ms to 600s/);
  assertConfigError({ command_timeout: 0 }, 'command_timeout', /from 10ms to 600s$/);
  assertConfigError(
    { restart_limit: '5' },
    'restart_limit',
    /expected N\/W: N items \(an integer from 1 to 1000\) .*e\.g\. 5\/60s$/,
  );
  assertConfigError({ restart_limit: '1001/60s' }, 'restart_limit', /N "1001" is not an integer from 1 to 1000$/);
  assertConfigError({ restart_limit: '5/100us' }, 'restart_limit', /the window must be at least 1ms/);
  assertConfigError({ restart_limit: 5 }, 'restart_limit', /expected N\/W/);
});
