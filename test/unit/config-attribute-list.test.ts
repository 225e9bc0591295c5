/** The reference's `key=value;key=value` strings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttributeList } from '../../src/config/attribute-list.js';
import { ConfigError } from '../../src/config/errors.js';

const EXPECTED = /expected key=value pairs separated by ";" \(e\.g\. name=t1;interval=100ms\)$/;

function assertConfigError(fn: () => unknown, param: string, valueText: string, allowed: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${param}: `), error.message);
    assert.ok(error.message.includes(valueText), error.message);
    assert.match(error.message, allowed);
    return true;
  });
}

test('pairs in order', () => {
  assert.deepEqual(parseAttributeList('name=q;type=3;interval=100ms', 'timer'), [
    { key: 'name', value: 'q' },
    { key: 'type', value: '3' },
    { key: 'interval', value: '100ms' },
  ]);
});

test('a trailing ";" and empty segments are fine; an empty string has no pairs', () => {
  assert.deepEqual(parseAttributeList('timer=t1;route=LOOP;', 'loop'), [
    { key: 'timer', value: 't1' },
    { key: 'route', value: 'LOOP' },
  ]);
  assert.deepEqual(parseAttributeList(';;name=a;; ;', 'timer'), [{ key: 'name', value: 'a' }]);
  assert.deepEqual(parseAttributeList('', 'timer'), []);
});

test('keys and values are trimmed', () => {
  assert.deepEqual(parseAttributeList('  name = a b ;\ttype=1\n', 'timer'), [
    { key: 'name', value: 'a b' },
    { key: 'type', value: '1' },
  ]);
});

test('a value may be empty or contain "="; the first "=" splits', () => {
  assert.deepEqual(parseAttributeList('name=;route=a=b', 'x'), [
    { key: 'name', value: '' },
    { key: 'route', value: 'a=b' },
  ]);
});

test('a segment without "=" is an error naming the parameter, the text and the segment', () => {
  assertConfigError(
    () => parseAttributeList('name=q;nworkers', 'timer[3]'),
    'timer[3]',
    '"name=q;nworkers"',
    /"nworkers" has no "=": /,
  );
  assertConfigError(() => parseAttributeList('name=q;nworkers', 'timer[3]'), 'timer[3]', '"name=q;nworkers"', EXPECTED);
});

test('an empty key is an error', () => {
  assertConfigError(() => parseAttributeList('=q', 'timer'), 'timer', '"=q"', /"=q" has no key before "=": /);
  assertConfigError(() => parseAttributeList('name=q; =1', 'loop[0]'), 'loop[0]', '"name=q; =1"', EXPECTED);
});

test('a key given twice is an error naming the key', () => {
  assertConfigError(
    () => parseAttributeList('name=a;type=1;name=b', 'timer'),
    'timer',
    '"name=a;type=1;name=b"',
    /key "name" is given twice: give each key once$/,
  );
  assertConfigError(
    () => parseAttributeList('name=a; name =a', 'timer'),
    'timer',
    '"name=a; name =a"',
    /key "name" is given twice/,
  );
});

test('a value that is not a string is an error, not a crash', () => {
  assertConfigError(() => parseAttributeList(42 as unknown as string, 'timer'), 'timer', '42', EXPECTED);
});
