/**
 * A route error across the thread boundary: the record a thread posts (cloneable, bounded,
 * whatever was thrown) and the error the main thread makes of it again for pino.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { errorRecord, reviveError } from '../../src/runtime/log-forward.js';

test('an error record keeps type, message with causes, stack and primitive fields, and is cloneable', () => {
  const cause = new Error('disk full');
  const err = Object.assign(new TypeError('write failed', { cause }), {
    code: 'E_WRITE',
    retry: 3,
    fatal: false,
    fn: () => 1,
    nested: { a: 1 },
  });
  const record = errorRecord(err);
  assert.equal(record.type, 'TypeError');
  assert.equal(record.message, 'write failed: disk full');
  assert.match(record.stack!, /^TypeError: write failed\n {4}at /);
  assert.match(record.stack!, /caused by: Error: disk full/);
  assert.deepEqual([record.code, record.retry, record.fatal], ['E_WRITE', 3, false]);
  assert.equal('fn' in record, false, 'functions do not cross');
  assert.equal('nested' in record, false, 'only primitive fields');
  assert.deepEqual(structuredClone(record), record);
});

test('anything thrown becomes a record', () => {
  assert.deepEqual(
    { ...errorRecord('plain string'), stack: undefined },
    { type: 'Error', message: 'plain string', stack: undefined },
  );
  assert.equal(errorRecord(42).message, '42');
  assert.equal(errorRecord(null).message, 'null');
  class Custom extends Error {}
  assert.equal(errorRecord(new Custom('c')).type, 'Custom');
  const hostile = new Error('h');
  Object.defineProperty(hostile, 'boom', {
    enumerable: true,
    get: () => {
      throw new Error('getter');
    },
  });
  assert.equal(errorRecord(hostile).message, 'h', 'a throwing getter does not break the record');
});

test('a record is bounded: long text cut, at most 20 extra fields', () => {
  const big = new Error('x'.repeat(100_000));
  for (let i = 0; i < 50; i++) (big as unknown as Record<string, number>)[`f${i}`] = i;
  const record = errorRecord(big);
  assert.ok(record.message.length < 17_000, `message ${record.message.length} chars`);
  assert.match(record.message, /\.\.\. \(83616 more characters\)$/);
  assert.ok(record.stack!.length < 17_000);
  assert.equal(Object.keys(record).filter((k) => /^f\d+$/.test(k)).length, 20);
});

test('a revived error is an Error with the type pino writes back', () => {
  const revived = reviveError(errorRecord(Object.assign(new RangeError('far'), { code: 'E_FAR' })));
  assert.ok(revived instanceof Error);
  assert.equal(revived.name, 'RangeError');
  assert.equal(revived.message, 'far');
  assert.equal(String(revived), 'RangeError: far');
  let out = '';
  const logger = pino(new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }));
  logger.error({ err: revived }, 'x');
  const err = (JSON.parse(out) as { err: Record<string, unknown> }).err;
  assert.deepEqual([err.type, err.message, err.code], ['RangeError', 'far', 'E_FAR']);
  assert.match(String(err.stack), /^RangeError: far\n/);
  assert.equal(
    reviveError({ type: 'RangeError', message: 'again' }).constructor,
    revived.constructor,
    'one constructor per type',
  );
});
