/**
 * SharedTable in one thread, on a virtual clock: every operation, expiry as htable's
 * autoexpire, every bound, and a model check against a Map. The threaded test (readers
 * under a busy writer) is in test/e2e/data-threads.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_TABLE_ENTRIES, SharedTable, TableFullError, type TableOptions } from '../../src/data/shared-table.js';
import type { ResolvedTable } from '../../src/config/types.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

const S = 1e9;

function table(over: Partial<ResolvedTable> = {}, options: TableOptions = {}) {
  const clock = { now: 1_000 * S };
  const t = SharedTable.create({ name: 't', size: 4, maxEntries: 8, autoexpire: 0, ...over }, options, () => clock.now);
  return { t, clock };
}

test('set, get, has, delete, size and keys', () => {
  const { t } = table();
  assert.equal(t.get('gw1'), undefined);
  assert.equal(t.has('gw1'), false);
  t.set('gw1', 1);
  t.set('gw2', 'down');
  t.set('☎', -0.5);
  t.set('', '');
  assert.equal(t.get('gw1'), 1);
  assert.equal(t.get('gw2'), 'down');
  assert.equal(t.get('☎'), -0.5);
  assert.equal(t.get(''), '', 'an empty key and an empty string are values like any other');
  assert.equal(t.has('gw2'), true);
  assert.equal(t.size, 4);
  assert.deepEqual(t.keys().sort(), ['', 'gw1', 'gw2', '☎']);
  t.set('gw1', 'up'); // a number replaced by a string
  assert.equal(t.get('gw1'), 'up');
  t.set('gw2', 42);
  assert.equal(t.get('gw2'), 42);
  assert.equal(t.size, 4, 'setting a key again does not add an entry');
  assert.equal(t.delete('gw1'), true);
  assert.equal(t.delete('gw1'), false);
  assert.equal(t.get('gw1'), undefined);
  assert.equal(t.size, 3);
  for (const n of [NaN, Infinity, -Infinity, Number.MAX_VALUE, 2 ** 53 + 2]) {
    t.set('n', n);
    assert.equal(t.get('n'), n);
  }
});

test('entries expire after autoexpire seconds unless set again; expires overrides it, 0 never', () => {
  const { t, clock } = table({ autoexpire: 10 });
  t.set('a', 1);
  t.set('b', 2, { expires: 2 });
  t.set('c', 3, { expires: 0 });
  t.set('d', 4, { expires: 0.5 });
  clock.now += 0.5 * S;
  assert.equal(t.get('d'), undefined, 'expired exactly at its time');
  assert.equal(t.get('b'), 2);
  clock.now += 1.5 * S;
  assert.equal(t.has('b'), false);
  assert.equal(t.size, 2);
  clock.now += 7 * S; // 9 s after a was set
  t.set('a', 'again'); // restarts its 10 s
  clock.now += 5 * S;
  assert.equal(t.get('a'), 'again');
  clock.now += 5 * S;
  assert.equal(t.get('a'), undefined);
  clock.now += 1e6 * S;
  assert.equal(t.get('c'), 3);
  assert.deepEqual(t.keys(), ['c']);
  assert.equal(t.delete('b'), false, 'an expired entry is not there to delete');
});

test('maxEntries bounds the table: a new key into a full table throws TableFullError; expired slots are reused', () => {
  const { t, clock } = table({ maxEntries: 3 });
  t.set('a', 1);
  t.set('b', 2, { expires: 5 });
  t.set('c', 3);
  t.set('a', 'still fine: an existing key');
  assert.throws(
    () => t.set('d', 4),
    (e: unknown) =>
      e instanceof TableFullError &&
      e.code === 'ETABLEFULL' &&
      /table "t"\.set\("d"\): the table is full \(3 live entries, its maxEntries\)/.test(e.message),
  );
  assert.equal(t.get('d'), undefined);
  assert.equal(t.size, 3);
  clock.now += 5 * S;
  t.set('d', 4); // b's slot is reclaimed
  assert.deepEqual(t.keys().sort(), ['a', 'c', 'd']);
  t.delete('a');
  t.set('e', 5);
  assert.equal(t.size, 3);
});

test('key and value bounds, bad input and bad settings are clear errors', () => {
  const { t } = table({}, { maxKeyBytes: 8, maxValueBytes: 10 });
  t.set('12345678', '1234567890');
  assert.equal(t.get('12345678'), '1234567890');
  t.set('☎☎', 'ab☎☎'); // 6 key bytes, 8 value bytes
  assert.equal(t.get('☎☎'), 'ab☎☎');
  assert.throws(() => t.set('123456789', 1), /table "t"\.set: the key has 9 UTF-8 bytes; at most 8/);
  assert.throws(() => t.get('☎☎☎'), /the key has 9 UTF-8 bytes; at most 8/);
  assert.throws(() => t.set('k', '12345678901'), /the value has 11 UTF-8 bytes; at most 10/);
  assert.throws(() => t.set('k', 'x'.repeat(100_000)), /the value has 100000 UTF-8 bytes/);
  assert.throws(() => t.set('k', true as never), /a value must be a string or a number; got true/);
  assert.throws(() => t.set('k', { a: 1 } as never), /got an object \(Object\)/);
  assert.throws(() => t.set(5 as never, 1), /table "t"\.set: a key must be a string; got 5/);
  assert.throws(() => t.delete(null as never), /delete: a key must be a string; got null/);
  for (const expires of [-1, NaN, '5', 2 ** 31])
    assert.throws(
      () => t.set('k', 1, { expires: expires as never }),
      /expires .* is not valid; expected seconds >= 0 \(0: never\)/,
    );
  assert.equal(t.has('k'), false, 'a refused set changes nothing');
  assert.throws(() => table({ size: 0 }), /table "t": size 0 is not valid; expected an integer from 1 to 22/);
  assert.throws(() => table({ maxEntries: 0 }), /maxEntries 0 is not valid/);
  assert.throws(() => table({ autoexpire: 1.5 }), /autoexpire 1.5 is not valid; expected whole seconds/);
  assert.throws(() => table({}, { maxKeyBytes: 0 }), /maxKeyBytes 0 is not valid/);
  assert.throws(
    () => table({ maxEntries: 1_000_000 }, { maxValueBytes: 4096 }),
    /need \d+ MiB of shared memory; at most 2048 MiB/,
  );
  // One bound for the entries, the config's (config/limits.ts), here as there.
  assert.throws(
    () => table({ maxEntries: MAX_TABLE_ENTRIES + 1 }),
    new RegExp(`maxEntries ${MAX_TABLE_ENTRIES + 1} is not valid; expected an integer from 1 to ${MAX_TABLE_ENTRIES}$`),
  );
  assert.throws(() => SharedTable.attach({ kind: 'ptimer.queue' } as never), /expected a table handle/);
});

test('the handle is structured-cloneable, and an attached table is the same table', () => {
  const { t, clock } = table({ name: 'dst_kpi', autoexpire: 30 });
  const other = SharedTable.attach(structuredClone(t.handle), () => clock.now);
  assert.deepEqual(
    {
      name: other.name,
      maxEntries: other.maxEntries,
      autoexpire: other.autoexpire,
      maxKeyBytes: other.maxKeyBytes,
      maxValueBytes: other.maxValueBytes,
    },
    { name: 'dst_kpi', maxEntries: 8, autoexpire: 30, maxKeyBytes: 256, maxValueBytes: 1024 },
  );
  t.set('gw1', 1);
  assert.equal(other.get('gw1'), 1);
  other.delete('gw1');
  assert.equal(t.has('gw1'), false);
  assert.throws(() => SharedTable.attach({ ...t.handle, maxEntries: 9 }), /does not match the handle's settings/);
});

test('model check: random operations on a virtual clock behave as a Map with expiry times', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', '☎');
  const op = fc.oneof(
    fc.record({
      op: fc.constant('set' as const),
      key,
      value: fc.oneof(fc.string({ maxLength: 20 }), fc.double()),
      expires: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    }),
    fc.record({ op: fc.constant('get' as const), key }),
    fc.record({ op: fc.constant('delete' as const), key }),
    fc.record({ op: fc.constant('tick' as const), s: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('size' as const) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(op, { maxLength: 60 }),
      (maxEntries, autoexpire, size, ops) => {
        const { t, clock } = table({ maxEntries, autoexpire, size });
        const model = new Map<string, { value: string | number; until: number }>();
        const live = () => [...model].filter(([, e]) => e.until > clock.now);
        for (const o of ops) {
          if (o.op === 'set') {
            const expires = o.expires ?? autoexpire;
            const isNew = !model.has(o.key) || model.get(o.key)!.until <= clock.now;
            if (isNew && live().length >= maxEntries) {
              assert.throws(
                () => t.set(o.key, o.value, o.expires === undefined ? undefined : { expires: o.expires }),
                TableFullError,
              );
              continue;
            }
            t.set(o.key, o.value, o.expires === undefined ? undefined : { expires: o.expires });
            model.set(o.key, { value: o.value, until: expires === 0 ? Infinity : clock.now + expires * S });
          } else if (o.op === 'get') {
            const e = model.get(o.key);
            assert.deepEqual(t.get(o.key), e && e.until > clock.now ? e.value : undefined);
          } else if (o.op === 'delete') {
            const e = model.get(o.key);
            assert.equal(t.delete(o.key), Boolean(e && e.until > clock.now));
            model.delete(o.key);
          } else if (o.op === 'tick') clock.now += o.s * S;
          else assert.equal(t.size, live().length);
        }
        assert.deepEqual(
          t.keys().sort(),
          live()
            .map(([k]) => k)
            .sort(),
        );
      },
    ),
    { numRuns: fuzzRuns(2000) },
  );
});
