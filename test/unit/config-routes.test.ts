/** resolveConfig: start/loop/end routes, with and without the routes module's exports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig, type ResolveOptions } from '../../src/config/resolve.js';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolving fails with a message naming `param`, showing `valueText` and matching `allowed`. */
function assertConfigError(
  config: unknown,
  param: string,
  valueText: string,
  allowed: RegExp,
  options?: ResolveOptions,
): void {
  assert.throws(
    () => resolveConfig(config, options),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.match(error.message, new RegExp(`^${escape(param)}: ${escape(valueText)} is not valid; `));
      assert.match(error.message, allowed);
      return true;
    },
  );
}

const routes = {
  QUEUE_START() {},
  QUEUE_LOOP() {},
  QUEUE_END: async () => {},
  LIMIT: 5,
  default: { timer: [] },
};

test('start, loop and end are each given to their timer; start and end are optional', () => {
  const resolved = resolveConfig({
    timer: ['name=a', 'name=b'],
    start: 'timer=a;route=QUEUE_START',
    loop: ['timer=a;route=QUEUE_LOOP', 'timer=b;route=QUEUE_LOOP'],
    end: ['timer=b;route=QUEUE_END'],
  });
  assert.deepEqual(
    resolved.timers.map((t) => [t.name, t.start, t.loop, t.end]),
    [
      ['a', 'QUEUE_START', 'QUEUE_LOOP', null],
      ['b', null, 'QUEUE_LOOP', 'QUEUE_END'],
    ],
  );
});

test('routes may also sit inline in a timer object', () => {
  const [timer] = resolveConfig({ timer: { name: 'a', start: 'S', loop: 'L', end: 'E' } }).timers;
  assert.deepEqual([timer?.start, timer?.loop, timer?.end], ['S', 'L', 'E']);
  const [mixed] = resolveConfig({ timer: { name: 'a', loop: 'L' }, start: 'timer=a;route=S' }).timers;
  assert.deepEqual([mixed?.start, mixed?.loop], ['S', 'L']);
});

test('every timer needs a loop route', () => {
  assert.throws(
    () => resolveConfig({ timer: ['name=a', 'name=x'], loop: 'timer=a;route=L', start: 'timer=x;route=S' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        'timer "x": no loop route; add loop: ["timer=x;route=NAME"] to the config, or loop: "NAME" to its timer object',
      );
      assert.equal(error.param, 'timer "x"');
      return true;
    },
  );
});

test('a loop attribute inside a timer string is ignored with a warning; the missing-loop error says why', () => {
  assert.throws(() => resolveConfig({ timer: 'name=x;loop=L' }), {
    message:
      /^timer "x": no loop route; .*; the loop attribute in its timer string was ignored: routes go in the loop parameter$/,
  });
});

test('a route item must be "timer=NAME;route=ROUTE"', () => {
  const base = { timer: 'name=t' };
  assertConfigError(
    { ...base, loop: 'timer=t' },
    'loop',
    '"timer=t"',
    /route=ROUTE is missing or empty: expected "timer=NAME;route=ROUTE"$/,
  );
  assertConfigError({ ...base, loop: 'timer=t;route=' }, 'loop', '"timer=t;route="', /route=ROUTE is missing or empty/);
  assertConfigError(
    { ...base, loop: ['route=L'] },
    'loop[0]',
    '"route=L"',
    /timer=NAME is missing or empty: expected "timer=NAME;route=ROUTE"$/,
  );
  assertConfigError(
    { ...base, loop: 'timer=t;route=L;name=x' },
    'loop',
    '"timer=t;route=L;name=x"',
    /unknown key "name": expected "timer=NAME;route=ROUTE", with the keys timer and route only$/,
  );
  assertConfigError(
    { ...base, loop: 'timer=t;route=L;route=M' },
    'loop',
    '"timer=t;route=L;route=M"',
    /key "route" is given twice/,
  );
  assertConfigError({ ...base, loop: 'L' }, 'loop', '"L"', /"L" has no "="/);
  assertConfigError(
    { ...base, loop: [{ timer: 't', route: 'L' }] },
    'loop[0]',
    '{"timer":"t","route":"L"}',
    /expected "timer=NAME;route=ROUTE" \(a string\)$/,
  );
  assertConfigError({ ...base, end: 42 }, 'end', '42', /expected "timer=NAME;route=ROUTE" \(a string\)$/);
});

test('a route name is a JavaScript identifier', () => {
  const allowed =
    /expected a route name: a function the routes module exports \(a JavaScript identifier, e\.g\. QUEUE_LOOP\)$/;
  assertConfigError({ timer: 'name=t', loop: 'timer=t;route=QUEUE-LOOP' }, 'loop: route', '"QUEUE-LOOP"', allowed);
  assertConfigError({ timer: 'name=t', loop: ['timer=t;route=1st'] }, 'loop[0]: route', '"1st"', allowed);
  assertConfigError({ timer: { name: 't', loop: ' L' } }, 'timer "t": loop', '" L"', allowed);
  assertConfigError({ timer: { name: 't', loop: 'L', end: 7 } }, 'timer "t": end', '7', allowed);
  assert.equal(resolveConfig({ timer: 'name=t', loop: 'timer=t;route=$route_ä1' }).timers[0]?.loop, '$route_ä1');
});

test('a route for a timer that is not defined is an error listing the timers', () => {
  assertConfigError(
    { timer: ['name=a', 'name=b'], loop: ['timer=a;route=L', 'timer=c;route=L'] },
    'loop[1]: timer',
    '"c"',
    /no timer of that name is defined; the timers are a, b$/,
  );
  assertConfigError({ start: 'timer=a;route=S' }, 'start: timer', '"a"', /no timers are defined$/);
});

test('a second route of the same kind for one timer is an error', () => {
  assertConfigError(
    { timer: 'name=t', end: ['timer=t;route=E1', 'timer=t;route=E2'] },
    'end[1]',
    '"timer=t;route=E2"',
    /timer "t" already has end route "E1" \(given in end\[0\]\); a timer has one end route$/,
  );
  assertConfigError(
    { timer: 'name=t', start: 'timer=t;route=S', loop: ['timer=t;route=L', 'timer=t;route=L'] },
    'loop[1]',
    '"timer=t;route=L"',
    /already has loop route "L" \(given in loop\[0\]\); a timer has one loop route$/,
  );
});

test('... also when the timer object already gave it inline', () => {
  assertConfigError(
    { timer: [{ name: 't', loop: 'L', start: 'S' }], start: 'timer=t;route=S2' },
    'start',
    '"timer=t;route=S2"',
    /timer "t" already has start route "S" \(given in timer\[0\]\); a timer has one start route$/,
  );
});

test('a second loop route, when the timer has no start route, suggests start (the reference examples slip)', () => {
  assertConfigError(
    { timer: 'name=t1', loop: ['timer=t1;route=GET_DATA', 'timer=t1;route=HANDLE_DATA'] },
    'loop[1]',
    '"timer=t1;route=HANDLE_DATA"',
    /a timer has one loop route; if "GET_DATA" is meant as the start route, give it under start$/,
  );
});

test('with routeExports, every route must be an exported function', () => {
  const config = {
    timer: ['name=a', { name: 'b', loop: 'QUEUE_LOOP', end: 'QUEUE_END' }],
    start: 'timer=a;route=QUEUE_START',
    loop: 'timer=a;route=QUEUE_LOOP',
  };
  assert.deepEqual(resolveConfig(config, { routeExports: routes }), resolveConfig(config));
});

test('a route the module does not export is an error naming it and listing its functions', () => {
  const config = { timer: 'name=a', loop: ['timer=a;route=QUEUE_LOP'] };
  assertConfigError(
    config,
    'loop[0]: route',
    '"QUEUE_LOP"',
    /the routes module exports no function "QUEUE_LOP" \(did you mean 'QUEUE_LOOP'\?\); its functions are QUEUE_END, QUEUE_LOOP, QUEUE_START$/,
    { routeExports: routes },
  );
  assertConfigError(
    config,
    'loop[0]: route',
    '"QUEUE_LOP"',
    /the routes module \.\/routes\.ts exports no function "QUEUE_LOP"/,
    {
      routeExports: routes,
      source: './routes.ts',
    },
  );
});

test('an export that is not a function, and a module with no functions', () => {
  assertConfigError(
    { timer: 'name=a', loop: 'timer=a;route=LIMIT' },
    'loop: route',
    '"LIMIT"',
    /the routes module exports "LIMIT" as a number, not a function; its functions are QUEUE_END, QUEUE_LOOP, QUEUE_START$/,
    { routeExports: routes },
  );
  assertConfigError(
    { timer: 'name=a', loop: 'timer=a;route=L' },
    'loop: route',
    '"L"',
    /exports no function "L"; it exports no functions$/,
    {
      routeExports: { default: {} },
    },
  );
});

test('inline routes are checked against the exports too', () => {
  assertConfigError(
    { timer: { name: 'a', loop: 'QUEUE_LOOP', start: 'START' } },
    'timer "a": start',
    '"START"',
    /exports no function "START"; its functions are QUEUE_END, QUEUE_LOOP, QUEUE_START$/,
    { routeExports: routes },
  );
});

test('inherited properties are not exports', () => {
  assertConfigError(
    { timer: 'name=a', loop: 'timer=a;route=toString' },
    'loop: route',
    '"toString"',
    /exports no function "toString"/,
    {
      routeExports: routes,
    },
  );
});

test('a real module namespace works as routeExports', async () => {
  const moduleUrl = 'data:text/javascript,export function LOOP(){}; export const N = 1; export default {}';
  const namespace = (await import(moduleUrl)) as Record<string, unknown>;
  assert.equal(
    resolveConfig({ timer: 'name=a', loop: 'timer=a;route=LOOP' }, { routeExports: namespace }).timers[0]?.loop,
    'LOOP',
  );
  assertConfigError(
    { timer: 'name=a', loop: 'timer=a;route=N' },
    'loop: route',
    '"N"',
    /exports "N" as a number, not a function; its functions are LOOP$/,
    {
      routeExports: namespace,
    },
  );
});

test('without routeExports, route names are not looked up', () => {
  assert.equal(resolveConfig({ timer: 'name=a', loop: 'timer=a;route=ANYTHING' }).timers[0]?.loop, 'ANYTHING');
});
