/**
 * Type test (compiled by `tsc -p tsconfig.json` in `npm test`, never run): defineConfig
 * accepts every parameter and rejects unknown ones. Each `@ts-expect-error` line must be an
 * error: if the mistake under it type-checked, tsc fails with "Unused '@ts-expect-error'".
 */
import { defineConfig, type PTimerConfig } from '../../src/index.js';

// Every parameter, timers as strings and objects, queues and tables.
export const full = defineConfig({
  default_type: 'synced-slice',
  default_interval: '100ms',
  default_nworkers: 2,
  default_spin: 'auto',
  default_threads: 2,
  restart_limit: '5/60s',
  startup_timeout: '10s',
  command_timeout: 5,
  stuck_after: 10,
  timer: [
    'name=queue;type=3;interval=100ms;nworkers=8;ntasks=1000;nslices=80',
    {
      name: 'obj',
      type: 'basic',
      interval: 2,
      nworkers: 1,
      ntasks: 0,
      nslices: 1,
      spin: '50us',
      thread: 'own',
      paused: 1,
      limit: '50/1s',
      start: 'S',
      loop: 'L',
      end: 'E',
    },
  ],
  queue: ['name=calls;size=10000', { name: 'q2', size: 10, maxBytes: 1024, addmode: 2 }],
  table: { name: 'kpi', size: 8, autoexpire: 5 },
  start: 'timer=obj;route=S',
  loop: ['timer=queue;route=QUEUE_LOOP'],
  end: [],
});

// The literal types are kept: timer and route names can be read off the config's type.
const names: readonly ['queue-a', 'queue-b'] = [
  defineConfig({ timer: [{ name: 'queue-a', loop: 'A' }] }).timer[0].name,
  defineConfig({ timer: { name: 'queue-b', loop: 'B' } }).timer.name,
];
void names;

// A variable (not a literal) is checked too.
const given = { default_interval: '1s', timer: [{ name: 't', loop: 'L' }] } satisfies PTimerConfig;
defineConfig(given);

defineConfig({
  // @ts-expect-error a misspelt parameter
  default_intervall: '1s',
});

defineConfig({
  // @ts-expect-error an unknown parameter
  workers: 4,
  timer: ['name=t'],
});

defineConfig({
  timer: [
    // @ts-expect-error a misspelt timer attribute (nworkers)
    { name: 't', loop: 'L', nworker: 2 },
  ],
});

defineConfig({
  // @ts-expect-error a single timer object with a misspelt attribute
  timer: { name: 't', loop: 'L', intervall: '1s' },
});

defineConfig({
  // @ts-expect-error a queue object with an unknown attribute
  queue: [{ name: 'q', length: 10 }],
});

defineConfig({
  // @ts-expect-error a table object with an unknown attribute
  table: { name: 't', expire: 5 },
});

defineConfig({
  // @ts-expect-error a wrong value type is still caught
  default_nworkers: '2',
});

defineConfig({
  // @ts-expect-error a type that is not 0-3 or a type name
  timer: [{ name: 't', loop: 'L', type: 4 }],
});

const withExtra = { default_interval: '1s', nworkers: 3 };
// @ts-expect-error a variable with an unknown key
defineConfig(withExtra);
