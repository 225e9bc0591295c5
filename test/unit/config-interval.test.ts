/** The duration grammar: `100ms`, `250us`, `2s`, `2` (seconds); canonical text back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { formatDurationNs, parseDuration, parseInterval } from '../../src/config/interval.js';

const POSITIVE =
  /expected a positive integer with an optional unit s, ms or us \(e\.g\. 100ms, 250us, 2s\); no unit means seconds/;
const NON_NEGATIVE = /expected a non-negative integer with an optional unit s, ms or us/;

function escape(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** The error names the parameter, shows the value as given and says what is allowed. */
function assertConfigError(fn: () => unknown, param: string, valueText: string, allowed: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`^${escape(param).source}: `));
    assert.match(error.message, escape(valueText));
    assert.match(error.message, allowed);
    assert.equal(error.param, param);
    return true;
  });
}

test('integers with s, ms, us or no unit (seconds) parse to nanoseconds and canonical text', () => {
  const cases: Array<[unknown, string, number]> = [
    ['100ms', '100ms', 100_000_000],
    ['250us', '250us', 250_000],
    ['2s', '2s', 2_000_000_000],
    ['2', '2s', 2_000_000_000],
    [2, '2s', 2_000_000_000],
    ['1000ms', '1s', 1_000_000_000],
    ['1500ms', '1500ms', 1_500_000_000],
    ['100000us', '100ms', 100_000_000],
    ['010ms', '10ms', 10_000_000],
    ['1us', '1us', 1_000],
  ];
  for (const [value, text, ns] of cases) {
    assert.deepEqual(parseDuration(value, 'p'), { text, ns }, `value ${JSON.stringify(value)}`);
    assert.deepEqual(parseInterval(value, 'p'), { text, ns }, `value ${JSON.stringify(value)}`);
  }
});

test('zero is accepted only with allowZero', () => {
  for (const value of ['0', '0s', '0ms', '0us', 0]) {
    assert.deepEqual(parseDuration(value, 'spin', { allowZero: true }), { text: '0', ns: 0 });
    assertConfigError(
      () => parseDuration(value, 'default_interval'),
      'default_interval',
      JSON.stringify(value),
      POSITIVE,
    );
    assertConfigError(
      () => parseInterval(value, 'timer "q": interval'),
      'timer "q": interval',
      JSON.stringify(value),
      POSITIVE,
    );
  }
});

test('malformed strings are errors naming the parameter, the value and the grammar', () => {
  for (const value of [
    '1.5s',
    'abc',
    '-1',
    '',
    ' ',
    '1 ms',
    ' 1s',
    '1s ',
    '10ous',
    '100MS',
    '5ns',
    '1e3',
    '0x10',
    's',
    'ms',
  ]) {
    assertConfigError(
      () => parseInterval(value, 'timer "queue": interval'),
      'timer "queue": interval',
      JSON.stringify(value),
      POSITIVE,
    );
  }
  assertConfigError(() => parseDuration('abc', 'spin', { allowZero: true }), 'spin', '"abc"', NON_NEGATIVE);
});

test('10m and 10u: the reference read them as 10ms and 10us; we say "m" is not a unit', () => {
  assertConfigError(
    () => parseInterval('10m', 'timer "queue": interval'),
    'timer "queue": interval',
    '"10m"',
    /"m" is not a unit \(the Kamailio module reads 10m as 10ms\): write 10ms or 10s$/,
  );
  assertConfigError(() => parseInterval('10m', 'p'), 'p', '"10m"', POSITIVE);
  assertConfigError(
    () => parseInterval('250u', 'p'),
    'p',
    '"250u"',
    /"u" is not a unit \(the Kamailio module reads 250u as 250us\): write 250us$/,
  );
});

test('a number means whole seconds: negative, fractional and non-finite numbers are errors', () => {
  assertConfigError(() => parseInterval(-1, 'default_interval'), 'default_interval', '-1', POSITIVE);
  assertConfigError(
    () => parseInterval(1.5, 'default_interval'),
    'default_interval',
    '1.5',
    /a number means whole seconds: write "1500ms"$/,
  );
  assertConfigError(() => parseInterval(0.0001, 'p'), 'p', '0.0001', /write "100us"$/);
  // describeValue (errors.ts) prints NaN and Infinity as JSON does, "null"; the field keeps the value.
  for (const value of [Number.NaN, Infinity, -Infinity]) {
    assert.throws(
      () => parseInterval(value, 'p'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(Object.is(error.value, value));
        assert.match(error.message, /^p: .*a number means whole seconds$/);
        return true;
      },
    );
  }
  assertConfigError(() => parseInterval(2 ** 53, 'p'), 'p', String(2 ** 53), POSITIVE);
});

test('values of other types are errors', () => {
  for (const value of [null, true, {}, [], ['1s']]) {
    assertConfigError(() => parseInterval(value, 'p'), 'p', JSON.stringify(value), POSITIVE);
  }
  assertConfigError(() => parseInterval(undefined, 'p'), 'p', 'no value', POSITIVE);
});

test('durations whose nanoseconds are not exact in a JS number are errors', () => {
  assert.equal(parseInterval('9007199s', 'p').ns, 9_007_199_000_000_000);
  assertConfigError(
    () => parseInterval('9007200s', 'p'),
    'p',
    '"9007200s"',
    /at most 9007199254740us \(about 104 days\)$/,
  );
  assertConfigError(() => parseInterval('99999999999999999999us', 'p'), 'p', '"99999999999999999999us"', /at most/);
  assertConfigError(() => parseInterval(9_007_200, 'p'), 'p', '9007200', /at most/);
});

test('formatDurationNs uses the largest unit that divides exactly, 0 for zero', () => {
  assert.equal(formatDurationNs(0), '0');
  assert.equal(formatDurationNs(2_000_000_000), '2s');
  assert.equal(formatDurationNs(100_000_000), '100ms');
  assert.equal(formatDurationNs(1_500_000_000), '1500ms');
  assert.equal(formatDurationNs(250_000), '250us');
  assert.equal(formatDurationNs(1_001_000), '1001us');
  assert.equal(formatDurationNs(1_500), '1500ns');
  assert.throws(() => formatDurationNs(-1), RangeError);
  assert.throws(() => formatDurationNs(1.5), RangeError);
});

test('formatDurationNs and parseDuration round-trip', () => {
  for (const ns of [0, 1_000, 50_000, 999_000, 1_000_000, 1_234_000, 100_000_000, 1_000_000_000, 86_400_000_000_000]) {
    assert.equal(parseDuration(formatDurationNs(ns), 'p', { allowZero: true }).ns, ns);
  }
});
