/** defineConfig is the identity; it exists for the types. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineConfig, type PTimerConfig, type ResolvedTimer } from '../../src/config/define-config.js';
import { resolveConfig } from '../../src/config/resolve.js';

test('defineConfig returns the very object it was given, which resolves', () => {
  const config = {
    default_interval: '100ms',
    timer: [{ name: 'q', type: 'synced-slice', ntasks: 1000, nslices: 80 }],
    loop: ['timer=q;route=QUEUE_LOOP'],
  } satisfies PTimerConfig;
  assert.equal(defineConfig(config), config);
  const [timer] = resolveConfig(defineConfig(config)).timers;
  const expected: ResolvedTimer = {
    name: 'q',
    type: 3,
    typeName: 'synced-slice',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 1,
    ntasks: 1000,
    nslices: 80,
    spin: { mode: 'auto', capNs: 200_000 },
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: null,
    loop: 'QUEUE_LOOP',
    end: null,
  };
  assert.deepEqual(timer, expected);
});
