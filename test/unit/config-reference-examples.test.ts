/**
 * The parameter lines of the reference's examples (ptimer-reference.md section 8), as a
 * config object, resolve to the timers they describe. 7.4 and 7.5 as written give one timer
 * two loop routes (the first was meant as start): that is an error; with start they pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigErrors } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ResolvedTimer } from '../../src/config/types.js';
import { NO_DATA } from '../support/config-defaults.js';

/** What a config without queue, table or runtime parameters resolves those to. */

const AUTO_SPIN = { mode: 'auto', capNs: 200_000 } as const;

test('7.1 global call-rate shaping', () => {
  const resolved = resolveConfig({
    timer: 'name=queue_timer;type=3;interval=100ms;nworkers=8;ntasks=1000;nslices=80',
    start: 'timer=queue_timer;route=QUEUE_START',
    loop: 'timer=queue_timer;route=QUEUE_LOOP',
  });
  const expected: ResolvedTimer = {
    name: 'queue_timer',
    type: 3,
    typeName: 'synced-slice',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 8,
    ntasks: 1000,
    nslices: 80,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: 'QUEUE_START',
    loop: 'QUEUE_LOOP',
    end: null,
  };
  assert.deepEqual(resolved, { timers: [expected], ...NO_DATA, warnings: [] });
});

test('7.2 per-customer shaping', () => {
  const resolved = resolveConfig({
    timer: [
      'name=customer_0;type=3;interval=100ms;nworkers=1;ntasks=8;nslices=10',
      'name=customer_1;type=3;interval=100ms;nworkers=1;ntasks=8;nslices=10',
      'name=customer_2;type=3;interval=100ms;nworkers=1;ntasks=8;nslices=10',
    ],
    loop: [
      'timer=customer_0;route=QUEUE_LOOP',
      'timer=customer_1;route=QUEUE_LOOP',
      'timer=customer_2;route=QUEUE_LOOP',
    ],
  });
  const customer = (name: string): ResolvedTimer => ({
    name,
    type: 3,
    typeName: 'synced-slice',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 1,
    ntasks: 8,
    nslices: 10,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: null,
    loop: 'QUEUE_LOOP',
    end: null,
  });
  assert.deepEqual(resolved, {
    timers: [customer('customer_0'), customer('customer_1'), customer('customer_2')],
    ...NO_DATA,
    warnings: [],
  });
});

test('7.3 adaptive routing', () => {
  const resolved = resolveConfig({
    timer: 'name=route_optimizer;type=0;interval=500ms;nworkers=3',
    start: 'timer=route_optimizer;route=OPTIMIZE_ROUTES_START',
    loop: 'timer=route_optimizer;route=OPTIMIZE_ROUTES_LOOP',
  });
  const expected: ResolvedTimer = {
    name: 'route_optimizer',
    type: 0,
    typeName: 'basic',
    interval: '500ms',
    intervalNs: 500_000_000,
    nworkers: 3,
    ntasks: 0,
    nslices: 1,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: 'OPTIMIZE_ROUTES_START',
    loop: 'OPTIMIZE_ROUTES_LOOP',
    end: null,
  };
  assert.deepEqual(resolved, { timers: [expected], ...NO_DATA, warnings: [] });
});

const QUEUE_CONTROL_TIMERS = ['name=normal_timer;type=1;interval=100ms', 'name=holiday_timer;type=1;interval=100ms'];

test('7.4 queue control as written: a second loop route for normal_timer is an error', () => {
  const asWritten = {
    timer: QUEUE_CONTROL_TIMERS,
    loop: [
      'timer=normal_timer;route=NORMAL_QUEUE_START',
      'timer=normal_timer;route=HANDLE_QUEUE',
      'timer=holiday_timer;route=HOLIDAY_QUEUE_START',
      'timer=holiday_timer;route=HANDLE_QUEUE',
    ],
  };
  assert.throws(
    () => resolveConfig(asWritten),
    (error: unknown) => {
      // Both timers make the same mistake, and both are reported.
      assert.ok(error instanceof ConfigErrors);
      assert.deepEqual(
        error.errors.map((problem) => problem.message),
        ['normal', 'holiday'].map(
          (prefix, i) =>
            `loop[${2 * i + 1}]: "timer=${prefix}_timer;route=HANDLE_QUEUE" is not valid; timer "${prefix}_timer" already has loop route ` +
            `"${prefix.toUpperCase()}_QUEUE_START" (given in loop[${2 * i}]); a timer has one loop route; ` +
            `if "${prefix.toUpperCase()}_QUEUE_START" is meant as the start route, give it under start`,
        ),
      );
      assert.deepEqual(error.origin, { key: 'loop', index: 1 });
      return true;
    },
  );
});

test('7.4 queue control with start', () => {
  const resolved = resolveConfig({
    timer: QUEUE_CONTROL_TIMERS,
    start: ['timer=normal_timer;route=NORMAL_QUEUE_START', 'timer=holiday_timer;route=HOLIDAY_QUEUE_START'],
    loop: ['timer=normal_timer;route=HANDLE_QUEUE', 'timer=holiday_timer;route=HANDLE_QUEUE'],
  });
  const timer = (name: string, start: string): ResolvedTimer => ({
    name,
    type: 1,
    typeName: 'sync',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 1,
    ntasks: 0,
    nslices: 1,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start,
    loop: 'HANDLE_QUEUE',
    end: null,
  });
  assert.deepEqual(resolved, {
    timers: [timer('normal_timer', 'NORMAL_QUEUE_START'), timer('holiday_timer', 'HOLIDAY_QUEUE_START')],
    ...NO_DATA,
    warnings: [],
  });
});

test('7.5 hot-reload tasks as written: a second loop route for t1 is an error', () => {
  assert.throws(
    () =>
      resolveConfig({
        timer: 'name=t1;type=3;interval=100ms;nslices=10',
        loop: ['timer=t1;route=GET_DATA', 'timer=t1;route=HANDLE_DATA'],
      }),
    {
      name: 'ConfigError',
      message: /^loop\[1\]: "timer=t1;route=HANDLE_DATA" is not valid; timer "t1" already has loop route "GET_DATA"/,
    },
  );
});

test('7.5 hot-reload tasks with start', () => {
  const resolved = resolveConfig({
    timer: 'name=t1;type=3;interval=100ms;nslices=10',
    start: 'timer=t1;route=GET_DATA',
    loop: 'timer=t1;route=HANDLE_DATA',
  });
  const expected: ResolvedTimer = {
    name: 't1',
    type: 3,
    typeName: 'synced-slice',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 1,
    ntasks: 0,
    nslices: 10,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: 'GET_DATA',
    loop: 'HANDLE_DATA',
    end: null,
  };
  assert.deepEqual(resolved, { timers: [expected], ...NO_DATA, warnings: [] });
});

test('the defaults lines: default_type 3, default_interval "10s", default_nworkers 8', () => {
  const resolved = resolveConfig({
    default_type: 3,
    default_interval: '10s',
    default_nworkers: 8,
    timer: 'name=t',
    loop: 'timer=t;route=LOOP',
  });
  const expected: ResolvedTimer = {
    name: 't',
    type: 3,
    typeName: 'synced-slice',
    interval: '10s',
    intervalNs: 10_000_000_000,
    nworkers: 8,
    ntasks: 0,
    nslices: 1,
    spin: AUTO_SPIN,
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: null,
    loop: 'LOOP',
    end: null,
  };
  assert.deepEqual(resolved, { timers: [expected], ...NO_DATA, warnings: [] });
});

test('the misspelt default_interval "10ous" is an error (once quoted; unquoted is the file parser\'s to reject)', () => {
  assert.throws(() => resolveConfig({ default_interval: '10ous' }), {
    name: 'ConfigError',
    message:
      'default_interval: "10ous" is not valid; expected a positive integer with an optional unit s, ms or us ' +
      '(e.g. 100ms, 250us, 2s); no unit means seconds',
  });
  assert.equal(resolveConfig({ default_interval: '100ms' }).timers.length, 0);
});
