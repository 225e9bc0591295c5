/**
 * SharedQueue in one thread: every operation, every bound, addmode as mqueue has it, values
 * given back as given, and a model check (fast-check) of random operation sequences against
 * a plain array. The threaded tests are in test/e2e/data-threads.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SharedQueue, MAX_QUEUE_KEY_BYTES, type QueueItem } from '../../src/data/shared-queue.js';
import type { ResolvedQueue } from '../../src/config/types.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

const q = (over: Partial<ResolvedQueue> = {}) =>
  SharedQueue.create({ name: 'q', size: 100, maxBytes: 1 << 20, addmode: 0, ...over });
const values = (items: QueueItem[]) => items.map((i) => i.value);
/** Items without their pushedAt (tested on its own below). */
const kv = (items: QueueItem[]) => items.map(({ key, value }) => ({ key, value }));
type KeyValue = Omit<QueueItem, 'pushedAt'>;

test('push and take: FIFO order, keys, and take(n) gives up to n', () => {
  const queue = q();
  assert.equal(queue.size, 0);
  assert.deepEqual(kv(queue.take()), []);
  for (let i = 0; i < 5; i++) assert.equal(queue.push(`v${i}`, i % 2 ? `k${i}` : undefined), true);
  assert.equal(queue.size, 5);
  assert.deepEqual(kv(queue.take()), [{ key: undefined, value: 'v0' }]);
  assert.deepEqual(kv(queue.take(2)), [
    { key: 'k1', value: 'v1' },
    { key: undefined, value: 'v2' },
  ]);
  assert.deepEqual(kv(queue.take(10)), [
    { key: 'k3', value: 'v3' },
    { key: undefined, value: 'v4' },
  ]);
  assert.equal(queue.size, 0);
  assert.deepEqual(kv(queue.take(0)), []);
});

test('values come back as given: string, Uint8Array, Buffer, empty, non-ASCII', () => {
  const queue = q();
  const bytes = new Uint8Array([0, 1, 2, 255]);
  const buf = Buffer.from('INVITE sip:x SIP/2.0\r\n');
  queue.push('héllo wörld ☎ 😀');
  queue.push(bytes);
  queue.push(buf, 'call-1');
  queue.push('');
  queue.push(new Uint8Array(0), '');
  const [s, u, b, empty, emptyBytes] = queue.take(5);
  assert.equal(s!.value, 'héllo wörld ☎ 😀');
  assert.ok(u!.value instanceof Uint8Array && !Buffer.isBuffer(u!.value));
  assert.deepEqual(u!.value, bytes);
  assert.ok(Buffer.isBuffer(b!.value));
  assert.equal(b!.value.toString(), buf.toString());
  assert.equal(b!.key, 'call-1');
  assert.equal(empty!.value, '');
  assert.deepEqual(kv([emptyBytes!]), [{ key: '', value: new Uint8Array(0) }]);
  // A taken value is a copy: writing to it does not touch the queue or the original.
  queue.push(bytes);
  const [copy] = queue.take();
  (copy!.value as Uint8Array)[0] = 99;
  assert.equal(bytes[0], 0);
});

test('items spanning many chunks, and long keys, round-trip intact', () => {
  const queue = q({ size: 10, maxBytes: 200_000 });
  const big = new Uint8Array(70_000).map((_, i) => (i * 7) & 255);
  const longKey = 'k'.repeat(MAX_QUEUE_KEY_BYTES - 3) + '☎';
  const text = 'ab☎'.repeat(10_000);
  assert.equal(queue.push(big, longKey), true);
  assert.equal(queue.push(text, 'x'), true);
  assert.equal(queue.bytesUsed, 70_000 + MAX_QUEUE_KEY_BYTES + 1 + Buffer.byteLength(text));
  assert.equal(
    queue.remove('k'.repeat(MAX_QUEUE_KEY_BYTES - 3) + '☏'),
    0,
    'a key differing in its last byte is another key',
  );
  const [a, b] = queue.take(2);
  assert.deepEqual(kv([a!, b!]), [
    { key: longKey, value: big },
    { key: 'x', value: text },
  ]);
  assert.equal(queue.bytesUsed, 0);
});

test('size bounds the items: a push into a full queue is false and changes nothing', () => {
  const queue = q({ size: 3 });
  assert.deepEqual(
    [1, 2, 3, 4].map((i) => queue.push(`v${i}`)),
    [true, true, true, false],
  );
  assert.equal(queue.size, 3);
  assert.deepEqual(values(queue.take(1)), ['v1']);
  assert.equal(queue.push('v5'), true);
  assert.deepEqual(values(queue.take(5)), ['v2', 'v3', 'v5']);
});

test('maxBytes bounds the bytes of keys and values', () => {
  const queue = q({ size: 100, maxBytes: 10 });
  assert.equal(queue.push('12345', 'ab'), true); // 7 bytes
  assert.equal(queue.push('1234'), false, '7 + 4 > 10');
  assert.equal(queue.push('123'), true, 'exactly 10');
  assert.equal(queue.bytesUsed, 10);
  assert.equal(queue.push(''), true, 'an empty value costs no bytes');
  assert.equal(queue.push('1'), false);
  assert.equal(queue.size, 3);
  queue.take();
  assert.equal(queue.push('1234567'), true);
  // One that could never fit is an error, not a quiet false.
  assert.throws(() => queue.push('12345678901'), /11 bytes.*maxBytes 10: it can never fit/);
  assert.throws(() => queue.push('x'.repeat(9), 'ab'), /11 bytes/);
});

test('a queue full of the largest items, emptied and filled again many times, never runs out of chunks', () => {
  // The chunk count must hold `size` items of any shape that fit maxBytes.
  for (const [size, maxBytes] of [
    [4, 1000],
    [50, 50],
    [1000, 300_000],
    [3, 1 << 16],
  ] as const) {
    const queue = q({ size, maxBytes });
    for (let round = 0; round < 3; round++) {
      const per = Math.floor(maxBytes / size);
      for (let i = 0; i < size; i++)
        assert.equal(queue.push(new Uint8Array(per)), true, `size ${size} maxBytes ${maxBytes} item ${i}`);
      assert.equal(queue.push(new Uint8Array(0)), false);
      // Mixed shapes: take half, push one large item into the freed bytes.
      queue.take(Math.ceil(size / 2));
      assert.equal(queue.push(new Uint8Array(per * Math.floor(size / 2))), true);
      queue.clear();
      for (let i = 0; i < size; i++) assert.equal(queue.push(i % 2 ? '' : new Uint8Array(1)), true);
      queue.take(size);
    }
  }
});

test('remove(key) removes every item with the key and says how many; order of the rest kept', () => {
  const queue = q();
  queue.push('a1', 'a');
  queue.push('b1', 'b');
  queue.push('a2', 'a');
  queue.push('n1');
  queue.push('a3', 'a');
  assert.equal(queue.remove('a'), 3);
  assert.equal(queue.remove('a'), 0);
  assert.equal(queue.remove('zzz'), 0);
  assert.equal(queue.size, 2);
  assert.deepEqual(kv(queue.take(5)), [
    { key: 'b', value: 'b1' },
    { key: undefined, value: 'n1' },
  ]);
  assert.equal(queue.bytesUsed, 0);
});

test('clear() empties the queue, returns the count, and the queue works after', () => {
  const queue = q({ size: 3 });
  queue.push('a', 'k');
  queue.push('b');
  assert.equal(queue.clear(), 2);
  assert.equal(queue.size, 0);
  assert.equal(queue.bytesUsed, 0);
  assert.equal(queue.remove('k'), 0);
  for (const v of ['x', 'y', 'z']) assert.equal(queue.push(v, v), true);
  assert.deepEqual(values(queue.take(3)), ['x', 'y', 'z']);
});

test('addmode 1 keeps the oldest item of a key: a push of a queued key is true and changes nothing', () => {
  const queue = q({ addmode: 1, size: 2 });
  assert.equal(queue.push('first', 'k'), true);
  assert.equal(queue.push('second', 'k'), true);
  assert.equal(queue.push('free'), true, 'items without a key are always added');
  assert.equal(queue.push('third', 'k'), true, 'true even when full: the key is queued');
  assert.equal(queue.size, 2);
  assert.deepEqual(kv(queue.take(2)), [
    { key: 'k', value: 'first' },
    { key: undefined, value: 'free' },
  ]);
  assert.equal(queue.push('again', 'k'), true);
  assert.deepEqual(values(queue.take()), ['again']);
});

test('addmode 2 replaces the item of a key: the new value goes to the back', () => {
  const queue = q({ addmode: 2, size: 3, maxBytes: 12 });
  queue.push('a-old', 'a'); // 6 bytes
  queue.push('b', 'b'); // 2
  queue.push('c', 'c'); // 2: full in items
  assert.equal(queue.push('a-new', 'a'), true, 'replacing does not add an item, so a full queue takes it');
  assert.equal(queue.size, 3);
  assert.equal(queue.push('d', 'd'), false, 'a new key into a full queue');
  assert.equal(queue.push('a-newer!', 'a'), false, 'the replacement would pass maxBytes: nothing changes');
  assert.deepEqual(kv(queue.take(3)), [
    { key: 'b', value: 'b' },
    { key: 'c', value: 'c' },
    { key: 'a', value: 'a-new' },
  ]);
});

test('bad input is a clear error', () => {
  const queue = q();
  assert.throws(() => queue.push(42 as never), /queue "q"\.push: a value must be a string or a Uint8Array.*got 42/);
  assert.throws(() => queue.push(new Uint16Array(2) as never), /got an object \(Uint16Array\)/);
  assert.throws(() => queue.push('v', 7 as never), /a key must be a string; got 7/);
  assert.throws(() => queue.push('v', 'k'.repeat(MAX_QUEUE_KEY_BYTES + 1)), /1025 UTF-8 bytes; at most 1024/);
  assert.throws(() => queue.remove(undefined as never), /queue "q"\.remove: a key must be a string/);
  for (const n of [-1, 1.5, NaN, '2']) assert.throws(() => queue.take(n as never), /take: n must be an integer >= 0/);
  assert.equal(queue.size, 0);
  assert.throws(() => q({ size: 0 }), /queue "q": size 0 is not valid; expected an integer from 1 to 10000000/);
  assert.throws(() => q({ maxBytes: 2 ** 31 }), /maxBytes .* is not valid; expected an integer from 1 to 1073741824/);
  assert.throws(() => q({ addmode: 3 as never }), /addmode 3 is not valid; expected 0 \(add\), 1/);
  assert.throws(() => q({ name: '' }), /a queue needs a name/);
  assert.throws(() => q({ size: 10_000_000, maxBytes: 1 << 30 }), /needs \d+ MiB of shared memory; at most 1536 MiB/);
  assert.throws(() => SharedQueue.attach({} as never), /expected a queue handle/);
});

test('the handle is structured-cloneable, and an attached queue is the same queue', () => {
  const queue = q({ name: 'calls', addmode: 2 });
  const handle = structuredClone(queue.handle);
  assert.deepEqual(Object.keys(handle).sort(), ['addmode', 'buffer', 'kind', 'maxAgeNs', 'maxBytes', 'name', 'size']);
  const other = SharedQueue.attach(handle);
  assert.equal(other.name, 'calls');
  queue.push('from host', 'h');
  assert.equal(other.size, 1);
  other.push('from worker', 'h'); // addmode 2 applies across views
  assert.deepEqual(kv(queue.take(5)), [{ key: 'h', value: 'from worker' }]);
  assert.throws(() => SharedQueue.attach({ ...handle, size: 99 }), /does not match the handle's settings/);
});

test('model check: random operations behave as a plain array of items', () => {
  type Op =
    | { op: 'push'; value: string | Uint8Array; key?: string }
    | { op: 'take'; n: number }
    | { op: 'remove'; key: string }
    | { op: 'clear' };
  const key = fc.constantFrom('a', 'b', 'c', '☎', '');
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record(
        {
          op: fc.constant('push' as const),
          value: fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 600 })),
          key: fc.option(key, { nil: undefined }),
        },
        { requiredKeys: ['op', 'value'] },
      ),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('take' as const), n: fc.nat(6) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  );
  fc.assert(
    fc.property(
      fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 3000 }),
      fc.array(op, { maxLength: 80 }),
      (addmode, size, maxBytes, ops) => {
        const queue = q({ addmode, size, maxBytes });
        let model: KeyValue[] = [];
        const bytesOf = (i: KeyValue) =>
          (i.key === undefined ? 0 : Buffer.byteLength(i.key)) +
          (typeof i.value === 'string' ? Buffer.byteLength(i.value) : i.value.length);
        for (const o of ops) {
          if (o.op === 'push') {
            const item = { key: o.key, value: o.value };
            const used = model.reduce((s, i) => s + bytesOf(i), 0);
            if (bytesOf(item) > maxBytes) {
              assert.throws(() => queue.push(o.value, o.key), /can never fit/);
              continue;
            }
            const existing = o.key === undefined || addmode === 0 ? -1 : model.findIndex((i) => i.key === o.key);
            let expected: boolean;
            if (existing >= 0 && addmode === 1) expected = true;
            else if (existing >= 0 && addmode === 2) {
              expected = used - bytesOf(model[existing]!) + bytesOf(item) <= maxBytes;
              if (expected) model = [...model.filter((_, i) => i !== existing), item];
            } else {
              expected = model.length < size && used + bytesOf(item) <= maxBytes;
              if (expected) model.push(item);
            }
            assert.equal(queue.push(o.value, o.key), expected);
          } else if (o.op === 'take') {
            assert.deepEqual(kv(queue.take(o.n)), model.splice(0, o.n));
          } else if (o.op === 'remove') {
            const n = model.filter((i) => i.key === o.key).length;
            model = model.filter((i) => i.key !== o.key);
            assert.equal(queue.remove(o.key), n);
          } else {
            assert.equal(queue.clear(), model.length);
            model = [];
          }
          assert.equal(queue.size, model.length);
          assert.equal(
            queue.bytesUsed,
            model.reduce((s, i) => s + bytesOf(i), 0),
          );
        }
        assert.deepEqual(kv(queue.take(1000)), model);
      },
    ),
    { numRuns: fuzzRuns(2000) },
  );
});
