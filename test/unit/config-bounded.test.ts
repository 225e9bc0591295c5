/**
 * Bounded config (issue 8 item 2): every bad value of any type is a ConfigError naming the
 * parameter, never a TypeError; offending text is cut; every count has an upper bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeValue } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';

function configError(config: unknown): ConfigError {
  try {
    resolveConfig(config);
  } catch (error) {
    assert.ok(
      error instanceof ConfigError,
      `expected a ConfigError, got ${error instanceof Error ? error.stack : String(error)}`,
    );
    assert.ok(error.param.length > 0);
    assert.ok(error.message.startsWith(`${error.param}: `), error.message);
    assert.ok(error.message.length < 1_000, `${error.message.length} chars: ${error.message.slice(0, 200)}`);
    return error;
  }
  assert.fail('no error');
}

test("a sparse array names the hole's index", () => {
  // eslint-disable-next-line no-sparse-arrays
  const error = configError({ timer: ['name=a', , 'name=b'], loop: 'timer=a;route=L' });
  assert.equal(error.param, 'timer[1]');
  assert.match(error.message, /^timer\[1\]: a hole in the array \(two commas in a row, as in \['a', , 'b'\]\?\)/);
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(configError({ timer: 'name=a', loop: ['timer=a;route=L', ,] }).param, 'loop[1]');
  assert.equal(configError({ timer: new Array(3) }).param, 'timer[0]');
});

test('objects without a prototype are read as plain objects, and printed', () => {
  const timer = Object.assign(Object.create(null), { name: 't', loop: 'L' });
  assert.equal(resolveConfig(Object.assign(Object.create(null), { timer })).timers[0]?.name, 't');
  const bad = Object.assign(Object.create(null), { name: 't', nworkers: Object.assign(Object.create(null), { a: 1 }) });
  const error = configError({ timer: bad, loop: 'timer=t;route=L' });
  assert.equal(error.message, 'timer "t": nworkers: {"a":1} is not valid; expected a positive integer (1 to 1024)');
});

test('symbols, bigints, functions, class instances: ConfigErrors that print them', () => {
  const cases: Array<[unknown, string]> = [
    [Symbol('s'), 'Symbol(s)'],
    [10n, '10n'],
    [function named() {}, 'a function named'],
    [() => 1, 'a function'],
    [new Date(0), 'a Date'],
    [new Map(), 'a Map'],
    [new (class Thing {})(), 'a Thing'],
    [Number.NaN, 'NaN'],
    [-0, '-0'],
  ];
  for (const [value, shown] of cases) {
    const error = configError({ default_nworkers: value });
    assert.equal(error.param, 'default_nworkers');
    assert.ok(error.message.startsWith(`default_nworkers: ${shown} is not valid; `), error.message);
    assert.equal(configError({ timer: value }).param, 'timer');
    assert.equal(configError({ timer: { name: 't', interval: value } }).param, 'timer "t": interval');
  }
  assert.equal(configError({ [Symbol('k')]: 1, timer: [Symbol('t')] }).param, 'timer[0]');
});

test('getters that throw and proxies that throw are ConfigErrors naming where', () => {
  const throwing = {
    get timer(): never {
      throw new TypeError('boom');
    },
  };
  const error = configError(throwing);
  assert.equal(error.param, 'timer');
  assert.match(error.message, /^timer: reading it threw \(TypeError: boom\); a config must be plain data/);
  const item = {
    get name(): never {
      throw new Error('no name');
    },
  };
  assert.equal(configError({ timer: [item] }).param, 'timer[0].name');
  const proxy = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('keys');
      },
    },
  );
  assert.equal(configError(proxy).param, 'config');
  const arrayProxy = new Proxy(['name=a'], {
    get(target, key) {
      if (key === '0') throw new Error('item');
      return Reflect.get(target, key);
    },
  });
  assert.equal(configError({ timer: arrayProxy }).param, 'timer[0]');
  const throwsNonError = {
    get default_type(): never {
      throw Object.create(null);
    },
  };
  assert.match(configError(throwsNonError).message, /^default_type: reading it threw \(an exception\)/);
});

test('cyclic values are printed, not followed', () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  const error = configError({ timer: [{ name: 't', ntasks: cycle }], loop: 'timer=t;route=L' });
  assert.match(error.message, /^timer "t": ntasks: \{"a":1,"self":\[a cycle\]\} is not valid/);
  const arrays: unknown[] = [];
  arrays.push(arrays);
  assert.equal(configError({ timer: arrays }).param, 'timer[0]');
});

test('huge strings are refused and cut in the message', () => {
  const huge = `name=${'x'.repeat(1_000_000)}`;
  const error = configError({ timer: huge });
  assert.equal(error.param, 'timer');
  assert.match(
    error.message,
    /^timer: "name=x{75}"… \(1000005 chars\) is not valid; a string of at most 65536 characters$/,
  );
  const name = configError({ timer: `name=${'y'.repeat(200)}` });
  assert.match(name.message, /^timer: name: "y{80}"… \(200 chars\) is not valid/);
});

test('describeValue prints anything, cut to 80 characters', () => {
  assert.equal(describeValue('a'.repeat(100)), `"${'a'.repeat(80)}"… (100 chars)`);
  assert.equal(describeValue(undefined), 'no value');
  assert.equal(describeValue(null), 'null');
  assert.equal(describeValue([1, 'a', null]), '[1,"a",null]');
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(describeValue([1, , 3]), '[1,<hole>,3]');
  assert.equal(describeValue(Array.from({ length: 20 }, (_, i) => i)), '[0,1,2,3,4,5,6,7,… 20 items]');
  assert.equal(describeValue({ a: { b: { c: { d: 1 } } } }), '{"a":{"b":{"c":{…}}}}');
  const long = describeValue({ k: 'v'.repeat(500) });
  assert.ok(long.length < 120, long);
  assert.match(long, /… \(\d+ chars\)$/);
  const getter = {
    get x(): never {
      throw new Error('x');
    },
  };
  assert.equal(describeValue(getter), '{"x":(reading it threw)}');
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  assert.equal(describeValue(revocable.proxy), 'an object that cannot be read');
});

test('upper bounds, with the limit in the message', () => {
  const loops = (n: number) => Array.from({ length: n }, (_, i) => `timer=t${i};route=L`);
  const timers = (n: number, extra = '') => Array.from({ length: n }, (_, i) => `name=t${i}${extra}`);
  assert.match(
    configError({ timer: timers(10_001) }).message,
    /^timer: 10001 timers is not valid; at most 10000 timers$/,
  );
  assert.equal(resolveConfig({ timer: timers(10_000), loop: loops(10_000) }).timers.length, 10_000);
  const tooMany = configError({ timer: timers(98, ';nworkers=1024'), loop: loops(98) });
  assert.match(
    tooMany.message,
    /^timer "t97": nworkers: 1024 is not valid; the timers have 100352 workers in all, up to this one; at most 100000 workers in all$/,
  );
  assert.deepEqual(tooMany.origin, { key: 'timer', index: 97 });
  assert.match(
    configError({ timer: 'name=t;nworkers=2147483647' }).message,
    /expected a positive integer \(1 to 1024\)$/,
  );
  assert.match(configError({ timer: 'name=t;ntasks=1000000001' }).message, /\(0 to 1000000000\)$/);
  assert.match(configError({ timer: 'name=t;nslices=1000001' }).message, /\(1 to 1000000\)$/);
  assert.match(
    configError({ timer: new Array(100_001).fill('x') }).message,
    /^timer: an array of 100001 items is not valid; at most 100000 items$/,
  );
});

test('every ConfigError of resolveConfig carries the top-level key (and item) it is about', () => {
  assert.deepEqual(configError({ default_interval: 'x' }).origin, { key: 'default_interval' });
  assert.deepEqual(configError({ timer: ['name=a', 'name=b;type=9'], loop: 'timer=a;route=L' }).origin, {
    key: 'timer',
    index: 1,
  });
  assert.deepEqual(configError({ timer: 'name=a', loop: ['timer=a;route=L', 'timer=a;route=M'] }).origin, {
    key: 'loop',
    index: 1,
  });
  assert.deepEqual(configError({ timer: ['name=a', 'name=b'], loop: 'timer=b;route=L' }).origin, {
    key: 'timer',
    index: 0,
  });
});
