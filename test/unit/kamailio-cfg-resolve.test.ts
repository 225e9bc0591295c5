/**
 * Each Kamailio-style example of the reference (section 7, lines as section 8 gives them)
 * resolves into the same timers as its defineConfig equivalent, routes checked against
 * the fixtures' routes module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseKamailioCfg, resolveKamailioCfg } from '../../src/config/kamailio-cfg.js';
import { defineConfig, resolveConfig } from '../../src/index.js';
import type { PTimerConfig } from '../../src/index.js';

const routeExports = (await import('../fixtures/kamailio/routes.js')) as Record<string, unknown>;

function resolveFixture(name: string) {
  const { config } = parseKamailioCfg(
    readFileSync(new URL(`../fixtures/kamailio/${name}`, import.meta.url), 'utf8'),
    name,
  );
  return resolveConfig(config, { routeExports });
}
function same(name: string, equivalent: PTimerConfig) {
  const fromCfg = resolveFixture(name);
  const fromModule = resolveConfig(equivalent, { routeExports });
  assert.deepEqual(fromCfg.timers, fromModule.timers, name);
  assert.deepEqual(fromCfg.warnings, fromModule.warnings, name);
  return fromCfg.timers;
}

const callRate = defineConfig({
  timer: [
    {
      name: 'queue_timer',
      type: 'synced-slice',
      interval: '100ms',
      nworkers: 8,
      ntasks: 1000,
      nslices: 80,
      start: 'QUEUE_START',
      loop: 'QUEUE_LOOP',
    },
  ],
});

test('7.1 global call-rate shaping', () => {
  const [t] = same('7.1-call-rate.cfg', callRate);
  assert.equal(t!.type, 3);
  assert.equal(t!.intervalNs, 100e6);
  assert.equal(t!.nworkers, 8);
});

test('7.1 inside a full kamailio.cfg (values over lines, route blocks, other modules)', () => {
  same('full-kamailio.cfg', callRate);
});

test('7.2 per-customer shaping', () => {
  const timers = same(
    '7.2-per-customer.cfg',
    defineConfig({
      timer: [0, 1, 2].map((i) => ({
        name: `customer_${i}`,
        type: 3 as const,
        interval: '100ms',
        nworkers: 1,
        ntasks: 8,
        nslices: 10,
        loop: 'QUEUE_LOOP',
      })),
    }),
  );
  assert.deepEqual(
    timers.map((t) => t.name),
    ['customer_0', 'customer_1', 'customer_2'],
  );
});

test('7.3 adaptive routing', () => {
  same(
    '7.3-adaptive-routing.cfg',
    defineConfig({
      timer: [
        {
          name: 'route_optimizer',
          type: 'basic',
          interval: '500ms',
          nworkers: 3,
          start: 'OPTIMIZE_ROUTES_START',
          loop: 'OPTIMIZE_ROUTES_LOOP',
        },
      ],
    }),
  );
});

test('7.4 queue control, with start as meant', () => {
  same(
    '7.4-queue-control.cfg',
    defineConfig({
      timer: [
        { name: 'normal_timer', type: 'sync', interval: '100ms', start: 'NORMAL_QUEUE_START', loop: 'HANDLE_QUEUE' },
        { name: 'holiday_timer', type: 'sync', interval: '100ms', start: 'HOLIDAY_QUEUE_START', loop: 'HANDLE_QUEUE' },
      ],
    }),
  );
});

test('7.5 hot-reload tasks, with start as meant', () => {
  same(
    '7.5-hot-reload.cfg',
    defineConfig({
      timer: ['name=t1;type=3;interval=100ms;nslices=10'],
      start: ['timer=t1;route=GET_DATA'],
      loop: ['timer=t1;route=HANDLE_DATA'],
    }),
  );
});

test('defaults: a timer that gives nothing takes default_type, default_interval, default_nworkers', () => {
  const [t] = same(
    'defaults.cfg',
    defineConfig({
      default_type: 3,
      default_interval: '10s',
      default_nworkers: 8,
      timer: [{ name: 'defaults_timer', loop: 'HANDLE_DATA' }],
    }),
  );
  assert.equal(t!.type, 3);
  assert.equal(t!.interval, '10s');
  assert.equal(t!.nworkers, 8);
  assert.equal(t!.ntasks, 0);
  assert.equal(t!.nslices, 1);
});

test('7.4 as written, given to resolveConfig directly: a second loop route is refused there too', () => {
  assert.throws(
    () =>
      resolveConfig(
        {
          timer: ['name=normal_timer;type=1;interval=100ms'],
          loop: ['timer=normal_timer;route=NORMAL_QUEUE_START', 'timer=normal_timer;route=HANDLE_QUEUE'],
        },
        { routeExports },
      ),
    /loop/i,
  );
});

test('7.1 and 7.3 through resolveKamailioCfg: the mqueue line is a queue, the htable line a table', () => {
  const read = (name: string) =>
    resolveKamailioCfg(
      parseKamailioCfg(readFileSync(new URL(`../fixtures/kamailio/${name}`, import.meta.url), 'utf8'), name),
      { routeExports },
    );
  assert.deepEqual(read('7.1-call-rate.cfg').queues, [
    { name: 'call_queue', size: 10_000, maxBytes: 16 * 1024 * 1024, addmode: 0 },
  ]);
  assert.deepEqual(read('7.3-adaptive-routing.cfg').tables, [
    { name: 'dst_kpi', size: 8, maxEntries: 16_384, autoexpire: 0 },
  ]);
  assert.deepEqual(
    read('7.2-per-customer.cfg').queues.map((q) => q.name),
    ['customer_0', 'customer_1', 'customer_2'],
  );
});

test('a route the routes module does not export is an error at its modparam line', () => {
  const text = 'modparam("ptimer", "timer", "name=t")\nmodparam("ptimer", "loop", "timer=t;route=NOPE")';
  assert.throws(
    () => resolveKamailioCfg(parseKamailioCfg(text, 'r.cfg'), { routeExports }),
    /^KamailioCfgError: r\.cfg:2:28: loop\[0\]: route: "NOPE" is not valid; the routes module exports no function "NOPE"/,
  );
});
