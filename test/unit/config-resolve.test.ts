/** resolveConfig: parameters, defaults, timers in both forms, and their errors. (Routes: config-routes.test.ts.) */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ResolvedTimer } from '../../src/config/types.js';
import { NO_DATA } from '../support/config-defaults.js';

/** What a config without queue, table or runtime parameters resolves those to. */

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolving `config` fails with a message naming `param`, showing `valueText` and matching `allowed`. */
function assertConfigError(config: unknown, param: string, valueText: string, allowed: RegExp): void {
  assert.throws(
    () => resolveConfig(config),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.match(error.message, new RegExp(`^${escape(param)}: ${escape(valueText)} is not valid; `));
      assert.match(error.message, allowed);
      assert.equal(error.param, param);
      return true;
    },
  );
}

/** One timer `t` (given as `timer`) with a loop route, plus `extra` parameters. */
function oneTimer(timer: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { timer, loop: 'timer=t;route=LOOP', ...extra };
}

const DEFAULT_TIMER: ResolvedTimer = {
  name: 't',
  type: 1,
  typeName: 'sync',
  interval: '1s',
  intervalNs: 1_000_000_000,
  nworkers: 1,
  ntasks: 0,
  nslices: 1,
  spin: { mode: 'auto', capNs: 200_000 },
  thread: { kind: 'pool' },
  paused: false,
  limit: null,
  start: null,
  loop: 'LOOP',
  end: null,
};

// ---- top level ----

test('an empty config resolves to no timers and no warnings', () => {
  assert.deepEqual(resolveConfig({}), { timers: [], ...NO_DATA, warnings: [] });
  assert.deepEqual(resolveConfig({ timer: [] }), { timers: [], ...NO_DATA, warnings: [] });
});

test('the config must be a plain object', () => {
  const allowed =
    /expected an object with the parameters default_type, default_interval, default_nworkers, default_spin, default_threads, restart_limit, startup_timeout, command_timeout, stuck_after, max_heap, timer, start, loop, end, queue, table, cluster, limiter$/;
  assertConfigError(null, 'config', 'null', allowed);
  assertConfigError(undefined, 'config', 'no value', allowed);
  assertConfigError('name=t', 'config', '"name=t"', allowed);
  assertConfigError([{ timer: 'name=t' }], 'config', '[{"timer":"name=t"}]', allowed);
  assertConfigError(new Map(), 'config', 'a Map', allowed);
});

test('an unknown top-level key is an error listing the parameters', () => {
  assertConfigError(
    { defualt_type: 1 },
    'config',
    '"defualt_type"',
    /not a ptimer parameter \(did you mean 'default_type'\?\); the parameters are default_type, default_interval, default_nworkers, default_spin, default_threads, restart_limit, startup_timeout, command_timeout, stuck_after, max_heap, timer, start, loop, end, queue, table, cluster, limiter$/,
  );
  assertConfigError({ timers: [] }, 'config', '"timers"', /not a ptimer parameter/);
});

test('a parameter set to undefined counts as not given', () => {
  const config = { default_type: undefined, default_spin: undefined, ...oneTimer('name=t'), start: undefined };
  assert.deepEqual(resolveConfig(config).timers, [DEFAULT_TIMER]);
});

// ---- defaults ----

test('defaults: type 1 (sync), interval 1s, 1 worker, spin auto, ntasks 0, nslices 1, no start or end', () => {
  assert.deepEqual(resolveConfig(oneTimer('name=t')), { timers: [DEFAULT_TIMER], ...NO_DATA, warnings: [] });
  assert.deepEqual(resolveConfig(oneTimer({ name: 't' })), { timers: [DEFAULT_TIMER], ...NO_DATA, warnings: [] });
});

test('default_* parameters fill what a timer does not give; the timer wins where it does', () => {
  const defaults = { default_type: 'basic', default_interval: '20ms', default_nworkers: 4, default_spin: '50us' };
  assert.deepEqual(resolveConfig(oneTimer('name=t', defaults)).timers[0], {
    ...DEFAULT_TIMER,
    type: 0,
    typeName: 'basic',
    interval: '20ms',
    intervalNs: 20_000_000,
    nworkers: 4,
    spin: { mode: 'fixed', ns: 50_000 },
  });
  const own = resolveConfig(oneTimer('name=t;type=2;interval=5ms;nworkers=2;spin=auto', defaults)).timers[0];
  assert.deepEqual(
    [own?.type, own?.interval, own?.nworkers, own?.spin],
    [2, '5ms', 2, { mode: 'auto', capNs: 200_000 }],
  );
});

test('default_* parameters accept the forms a Kamailio-style file gives: numbers and strings', () => {
  const timer = resolveConfig(oneTimer('name=t', { default_type: '3', default_interval: 2, default_nworkers: '8' }))
    .timers[0];
  assert.deepEqual([timer?.type, timer?.interval, timer?.nworkers], [3, '2s', 8]);
});

test('bad default_* values are errors naming the parameter', () => {
  assertConfigError(
    { default_type: 4 },
    'default_type',
    '4',
    /expected 0 \(basic\), 1 \(sync\), 2 \(slice\) or 3 \(synced-slice\)/,
  );
  assertConfigError(
    { default_interval: '0' },
    'default_interval',
    '"0"',
    /expected a positive integer with an optional unit s, ms or us/,
  );
  assertConfigError({ default_interval: '10ous' }, 'default_interval', '"10ous"', /no unit means seconds$/);
  assertConfigError({ default_interval: '10m' }, 'default_interval', '"10m"', /"m" is not a unit/);
  assertConfigError({ default_nworkers: 0 }, 'default_nworkers', '0', /expected a positive integer \(1 to 1024\)$/);
  assertConfigError({ default_spin: 'fast' }, 'default_spin', '"fast"', /expected "auto", a duration from 0 to 1s/);
});

test('a bad default is an error even when every timer overrides it', () => {
  assertConfigError(
    oneTimer('name=t;interval=1s', { default_interval: 'soon' }),
    'default_interval',
    '"soon"',
    /no unit means seconds$/,
  );
});

// ---- types ----

test('type: 0-3 as a number or digit string, or a name; typeName filled in', () => {
  const cases: Array<[unknown, number, string]> = [
    [0, 0, 'basic'],
    ['1', 1, 'sync'],
    ['slice', 2, 'slice'],
    [3, 3, 'synced-slice'],
    ['synced-slice', 3, 'synced-slice'],
  ];
  for (const [type, number, name] of cases) {
    const [timer] = resolveConfig(oneTimer({ name: 't', type })).timers;
    assert.deepEqual([timer?.type, timer?.typeName], [number, name], String(type));
  }
  const [fromString] = resolveConfig(oneTimer('name=t;type=synced-slice')).timers;
  assert.equal(fromString?.type, 3);
});

test('an unknown type is an error naming the timer and listing the types', () => {
  const allowed = /expected 0 \(basic\), 1 \(sync\), 2 \(slice\) or 3 \(synced-slice\), as a number or by name$/;
  assertConfigError(oneTimer('name=t;type=4'), 'timer "t": type', '"4"', allowed);
  assertConfigError(oneTimer('name=t;type=sliced'), 'timer "t": type', '"sliced"', allowed);
  assertConfigError(oneTimer('name=t;type='), 'timer "t": type', '""', allowed);
  assertConfigError(oneTimer({ name: 't', type: -1 }), 'timer "t": type', '-1', allowed);
  assertConfigError(oneTimer({ name: 't', type: 1.5 }), 'timer "t": type', '1.5', allowed);
  assertConfigError(oneTimer({ name: 't', type: null }), 'timer "t": type', 'null', allowed);
});

// ---- the two forms of a timer ----

test('the string and the object form give the same ResolvedTimer', () => {
  const fromString = resolveConfig({
    timer: 'name=q;type=3;interval=100ms;nworkers=8;ntasks=1000;nslices=80;spin=50us',
    start: 'timer=q;route=QUEUE_START',
    loop: 'timer=q;route=QUEUE_LOOP',
    end: 'timer=q;route=QUEUE_END',
  });
  const fromObject = resolveConfig({
    timer: {
      name: 'q',
      type: 'synced-slice',
      interval: '100ms',
      nworkers: 8,
      ntasks: 1000,
      nslices: 80,
      spin: 50,
      start: 'QUEUE_START',
      loop: 'QUEUE_LOOP',
      end: 'QUEUE_END',
    },
  });
  const expected: ResolvedTimer = {
    name: 'q',
    type: 3,
    typeName: 'synced-slice',
    interval: '100ms',
    intervalNs: 100_000_000,
    nworkers: 8,
    ntasks: 1000,
    nslices: 80,
    spin: { mode: 'fixed', ns: 50_000 },
    thread: { kind: 'pool' },
    paused: false,
    limit: null,
    start: 'QUEUE_START',
    loop: 'QUEUE_LOOP',
    end: 'QUEUE_END',
  };
  assert.deepEqual(fromString, { timers: [expected], ...NO_DATA, warnings: [] });
  assert.deepEqual(fromObject, fromString);
});

test('timer may be one string, one object, or an array mixing both; order is kept', () => {
  const config = {
    timer: ['name=a;interval=10ms', { name: 'b', interval: 2 }, 'name=c'],
    loop: ['timer=a;route=L', 'timer=b;route=L', 'timer=c;route=L'],
  };
  const timers = resolveConfig(config).timers;
  assert.deepEqual(
    timers.map((t) => [t.name, t.interval, t.intervalNs]),
    [
      ['a', '10ms', 10_000_000],
      ['b', '2s', 2_000_000_000],
      ['c', '1s', 1_000_000_000],
    ],
  );
});

test('intervals come back in canonical form', () => {
  const [timer] = resolveConfig(oneTimer('name=t;interval=1000ms')).timers;
  assert.deepEqual([timer?.interval, timer?.intervalNs], ['1s', 1_000_000_000]);
});

test('a trailing ";", empty segments and spaces around keys and values are fine', () => {
  const config = { timer: ' name = t ; interval = 100ms ;; ', loop: 'timer=t;route=LOOP;' };
  const [timer] = resolveConfig(config).timers;
  assert.deepEqual([timer?.name, timer?.interval, timer?.loop], ['t', '100ms', 'LOOP']);
});

test('an unknown attribute in a timer string is warned about and ignored', () => {
  const resolved = resolveConfig(oneTimer('name=t;foo=1;interval=5ms;Nworkers=3'));
  assert.deepEqual(resolved.warnings, [
    'timer "t": unknown attribute "foo" ignored',
    `timer "t": unknown attribute "Nworkers" ignored (did you mean 'nworkers'?)`,
  ]);
  assert.deepEqual(resolved.timers, [{ ...DEFAULT_TIMER, interval: '5ms', intervalNs: 5_000_000 }]);
});

test('an unknown key in a timer object is an error listing the keys', () => {
  assertConfigError(
    oneTimer({ name: 't', intervall: '5ms' }),
    'timer "t"',
    '"intervall"',
    /not a timer key \(did you mean 'interval'\?\); the keys are name, type, interval, nworkers, ntasks, nslices, spin, thread, paused, limit, cluster, start, loop, end$/,
  );
  assertConfigError({ timer: [{ name: 'bad name', foo: 1 }] }, 'timer[0]', '"foo"', /not a timer key/);
});

test('a timer that is neither a string nor a plain object is an error', () => {
  const allowed =
    /expected a timer string "name=NAME;type=INT;interval=STR;nworkers=INT;ntasks=INT;nslices=INT" or an object \{ name, /;
  assertConfigError({ timer: 5 }, 'timer', '5', allowed);
  assertConfigError({ timer: ['name=a', null], loop: 'timer=a;route=L' }, 'timer[1]', 'null', allowed);
  assertConfigError({ timer: [['name=a']] }, 'timer[0]', '["name=a"]', allowed);
});

test('a malformed timer string is an error naming the timer item', () => {
  assertConfigError(
    { timer: ['name=a', 'name=b;nworkers'], loop: 'timer=a;route=L' },
    'timer[1]',
    '"name=b;nworkers"',
    /"nworkers" has no "="/,
  );
  assertConfigError({ timer: 'name=a;name=b' }, 'timer', '"name=a;name=b"', /key "name" is given twice/);
});

// ---- names ----

test('name is required', () => {
  const allowed =
    /a timer needs a name \(name=NAME in a string, name in an object\): expected a non-empty name of letters, digits, "_", "-" and "\." \(at most 128 characters\)$/;
  assertConfigError({ timer: 'type=1;interval=1s' }, 'timer', '"type=1;interval=1s"', allowed);
  assertConfigError({ timer: ['name=a', 'name='], loop: 'timer=a;route=L' }, 'timer[1]', '"name="', allowed);
  assertConfigError({ timer: [{ type: 1 }] }, 'timer[0]', '{"type":1}', allowed);
  assertConfigError({ timer: '' }, 'timer', '""', allowed);
});

test('a name has letters, digits, "_", "-" and "." only', () => {
  const allowed = /expected a non-empty name of letters, digits, "_", "-" and "\." \(at most 128 characters\)$/;
  assertConfigError({ timer: 'name=a b' }, 'timer: name', '"a b"', allowed);
  assertConfigError({ timer: ['name=q/1'] }, 'timer[0]: name', '"q/1"', allowed);
  assertConfigError({ timer: [{ name: 5 }] }, 'timer[0]: name', '5', allowed);
  assertConfigError({ timer: [{ name: 'é' }] }, 'timer[0]: name', '"é"', allowed);
  const names = resolveConfig({ timer: 'name=Queue_1.a-b', loop: 'timer=Queue_1.a-b;route=L' }).timers.map(
    (t) => t.name,
  );
  assert.deepEqual(names, ['Queue_1.a-b']);
});

test('a name given twice is an error naming it and where it was first defined', () => {
  assertConfigError(
    { timer: ['name=q', 'name=x', { name: 'q' }], loop: ['timer=q;route=L', 'timer=x;route=L'] },
    'timer[2]: name',
    '"q"',
    /timer "q" is already defined \(timer\[0\]\); names must be unique$/,
  );
});

// ---- counts ----

test('nworkers, ntasks, nslices: integers as numbers or digit strings', () => {
  const [fromString] = resolveConfig(oneTimer('name=t;nworkers=3;ntasks=0;nslices=7')).timers;
  const [fromObject] = resolveConfig(oneTimer({ name: 't', nworkers: '3', ntasks: 0, nslices: 7 })).timers;
  assert.deepEqual([fromString?.nworkers, fromString?.ntasks, fromString?.nslices], [3, 0, 7]);
  assert.deepEqual(fromObject, fromString);
});

test('nworkers and nslices must be positive integers, at most 1024 and 1000000', () => {
  for (const [key, max] of [
    ['nworkers', 1024],
    ['nslices', 1_000_000],
  ] as const) {
    const allowed = new RegExp(`expected a positive integer \\(1 to ${max}\\)$`);
    for (const [value, text] of [
      ['0', '"0"'],
      ['-1', '"-1"'],
      ['1.5', '"1.5"'],
      ['abc', '"abc"'],
      ['', '""'],
      [String(max + 1), `"${max + 1}"`],
      ['2147483648', '"2147483648"'],
      ['1e3', '"1e3"'],
    ]) {
      assertConfigError(oneTimer(`name=t;${key}=${value}`), `timer "t": ${key}`, text!, allowed);
    }
    for (const [value, text] of [
      [0, '0'],
      [-1, '-1'],
      [1.5, '1.5'],
      [' 2', '" 2"'],
      [true, 'true'],
      [max + 1, String(max + 1)],
    ] as const) {
      assertConfigError(oneTimer({ name: 't', [key]: value }), `timer "t": ${key}`, text, allowed);
    }
    assert.equal(resolveConfig(oneTimer({ name: 't', [key]: max })).timers[0]?.[key], max);
  }
  const allowed = /expected a positive integer \(1 to 1024\)$/;
  assertConfigError({ default_nworkers: -2 }, 'default_nworkers', '-2', allowed);
  assertConfigError({ default_nworkers: 'many' }, 'default_nworkers', '"many"', allowed);
  assertConfigError({ default_nworkers: 2.5 }, 'default_nworkers', '2.5', allowed);
  assertConfigError({ default_nworkers: 1025 }, 'default_nworkers', '1025', allowed);
});

test('ntasks must be an integer from 0 to 1e9', () => {
  const allowed = /expected an integer >= 0 \(0 to 1000000000\)$/;
  assertConfigError(oneTimer('name=t;ntasks=-1'), 'timer "t": ntasks', '"-1"', allowed);
  assertConfigError(oneTimer('name=t;ntasks=ten'), 'timer "t": ntasks', '"ten"', allowed);
  assertConfigError(oneTimer({ name: 't', ntasks: 0.5 }), 'timer "t": ntasks', '0.5', allowed);
  assertConfigError(oneTimer({ name: 't', ntasks: 1e9 + 1 }), 'timer "t": ntasks', '1000000001', allowed);
  assert.equal(resolveConfig(oneTimer({ name: 't', ntasks: 1e9 })).timers[0]?.ntasks, 1e9);
});

// ---- intervals ----

test('a bad interval is an error naming the timer', () => {
  const grammar =
    /expected a positive integer with an optional unit s, ms or us \(e\.g\. 100ms, 250us, 2s\); no unit means seconds/;
  for (const [interval, text] of [
    ['0', '"0"'],
    ['1.5s', '"1.5s"'],
    ['abc', '"abc"'],
    ['-1', '"-1"'],
    ['', '""'],
    ['1 ms', '"1 ms"'],
  ]) {
    assertConfigError(oneTimer(`name=t;interval=${interval}`), 'timer "t": interval', text!, grammar);
  }
  assertConfigError(oneTimer({ name: 't', interval: ' ' }), 'timer "t": interval', '" "', grammar);
  assertConfigError(oneTimer({ name: 't', interval: 0 }), 'timer "t": interval', '0', grammar);
  assertConfigError(
    oneTimer('name=t;interval=10m'),
    'timer "t": interval',
    '"10m"',
    /"m" is not a unit \(the Kamailio module reads 10m as 10ms\): write 10ms or 10s$/,
  );
});

// ---- spin ----

test('spin: "auto", a duration (zero allowed) or a number of microseconds', () => {
  const cases: Array<[unknown, unknown]> = [
    ['auto', { mode: 'auto', capNs: 200_000 }],
    ['0', { mode: 'fixed', ns: 0 }],
    [0, { mode: 'fixed', ns: 0 }],
    ['50us', { mode: 'fixed', ns: 50_000 }],
    [50, { mode: 'fixed', ns: 50_000 }],
    ['2ms', { mode: 'fixed', ns: 2_000_000 }],
    ['1s', { mode: 'fixed', ns: 1_000_000_000 }],
    [1_000_000, { mode: 'fixed', ns: 1_000_000_000 }],
  ];
  for (const [spin, expected] of cases) {
    assert.deepEqual(resolveConfig(oneTimer({ name: 't', spin })).timers[0]?.spin, expected, String(spin));
  }
  assert.deepEqual(resolveConfig(oneTimer('name=t;spin=0')).timers[0]?.spin, { mode: 'fixed', ns: 0 });
  assert.deepEqual(resolveConfig(oneTimer('name=t', { default_spin: 20 })).timers[0]?.spin, {
    mode: 'fixed',
    ns: 20_000,
  });
});

test('a bad spin is an error; above 1s is an error', () => {
  const allowed =
    /expected "auto", a duration from 0 to 1s \(e\.g\. 0, 50us, 200us\) or a number of microseconds \(e\.g\. 50\)/;
  assertConfigError(oneTimer('name=t;spin=fast'), 'timer "t": spin', '"fast"', allowed);
  assertConfigError(oneTimer('name=t;spin=Auto'), 'timer "t": spin', '"Auto"', allowed);
  assertConfigError(oneTimer('name=t;spin='), 'timer "t": spin', '""', allowed);
  assertConfigError(oneTimer({ name: 't', spin: -1 }), 'timer "t": spin', '-1', allowed);
  assertConfigError(oneTimer({ name: 't', spin: 1.5 }), 'timer "t": spin', '1.5', allowed);
  assertConfigError(oneTimer({ name: 't', spin: null }), 'timer "t": spin', 'null', allowed);
  assertConfigError(oneTimer('name=t;spin=2s'), 'timer "t": spin', '"2s"', /; at most 1s$/);
  assertConfigError(oneTimer('name=t;spin=1001ms'), 'timer "t": spin', '"1001ms"', /; at most 1s$/);
  assertConfigError(oneTimer({ name: 't', spin: 1_000_001 }), 'timer "t": spin', '1000001', /; at most 1s$/);
  assertConfigError(
    oneTimer('name=t;spin=50'),
    'timer "t": spin',
    '"50"',
    /at most 1s; no unit means seconds: write 50us$/,
  );
  assertConfigError(oneTimer('name=t;spin=5m'), 'timer "t": spin', '"5m"', /"m" is not a unit/);
  assertConfigError(
    oneTimer('name=t;spin=1.5us'),
    'timer "t": spin',
    '"1.5us"',
    /expected a non-negative integer with an optional unit/,
  );
});

// ---- purity ----

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

test('resolveConfig never mutates its input, whether it succeeds or throws', () => {
  const good = {
    default_spin: 'auto',
    timer: ['name=a;foo=1', { name: 'b', type: 'slice' as const, loop: 'L' }],
    start: ['timer=a;route=S'],
    loop: 'timer=a;route=L',
  };
  const before = structuredClone(good);
  resolveConfig(deepFreeze(good));
  assert.deepEqual(good, before);

  const bad = { timer: ['name=a', 'name=b'], loop: ['timer=a;route=L', 'timer=a;route=M'] };
  const badBefore = structuredClone(bad);
  assert.throws(() => resolveConfig(deepFreeze(bad)), ConfigError);
  assert.deepEqual(bad, badBefore);
});

test('each resolve returns fresh values, not shared with other timers or calls', () => {
  const config = { default_spin: 'auto', timer: ['name=a', 'name=b'], loop: ['timer=a;route=L', 'timer=b;route=L'] };
  const first = resolveConfig(config);
  const second = resolveConfig(config);
  assert.notEqual(first.timers[0], second.timers[0]);
  assert.notEqual(first.timers[0]?.spin, first.timers[1]?.spin);
  assert.deepEqual(first, second);
});
