/**
 * The BINRPC decoder and framer on arbitrary bytes: they return values or throw a
 * BinrpcError, never anything else (no RangeError from a length, no TypeError, no hang), and
 * what the encoder writes always reads back as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BinrpcError, decodeHeader, decodeValues, encodeValues, type BinrpcValue } from '../../src/rpc/binrpc-codec.js';
import { BinrpcFramer } from '../../src/rpc/binrpc-server.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

function onlyBinrpcErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof BinrpcError)) throw err;
  }
}

// Bytes that look like records often (type nibbles 0-6, small sizes), so that deep paths are reached.
const recordish = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x03, 0x83, 0x04, 0x84, 0x25, 0x11, 0x00, 0x10, 0x91, 0x22, 0x61, 0x66),
  ),
  { maxLength: 200 },
);

test('decodeValues: random bytes give values or a BinrpcError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        recordish.map((a) => Uint8Array.from(a)),
      ),
      (bytes) => {
        onlyBinrpcErrors(() => decodeValues(bytes));
      },
    ),
    { numRuns: fuzzRuns(20_000) },
  );
});

test('decodeHeader and the framer: random bytes give packets, "need more", or a BinrpcError', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), fc.boolean(), (chunks, magic) => {
      const framer = new BinrpcFramer(512);
      if (magic) framer.push(Buffer.from([0xa1]));
      onlyBinrpcErrors(() => {
        for (const c of chunks) {
          onlyBinrpcErrors(() => decodeHeader(c));
          framer.push(Buffer.from(c));
          for (let p = framer.next(), n = 0; p && n < 100; p = framer.next(), n++) {
            assert.ok(p.body.length === p.header.bodyLength);
            onlyBinrpcErrors(() => decodeValues(p.body));
          }
        }
      });
    }),
    { numRuns: fuzzRuns(10_000) },
  );
});

const leaf: fc.Arbitrary<BinrpcValue> = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ kind: 'int' as const, value })),
  fc.integer({ min: -9e12, max: 9e12 }).map((n) => ({ kind: 'double' as const, value: n / 1000 })),
  fc.string({ maxLength: 40 }).map((value) => ({ kind: 'str' as const, value })),
  fc.uint8Array({ maxLength: 20 }).map((value) => ({ kind: 'bytes' as const, value })),
);
const value: fc.Arbitrary<BinrpcValue> = fc.letrec<{ v: BinrpcValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .array(fc.record({ name: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), value: tie('v') }), {
        maxLength: 4,
      })
      .map((members) => ({
        kind: 'struct' as const,
        members: members.map((m) =>
          m.name === undefined
            ? { value: m.value }
            : m.value.kind === 'array'
              ? { value: m.value }
              : { name: m.name, value: m.value },
        ),
      })),
    fc.array(tie('v'), { maxLength: 4 }).map((items) => ({ kind: 'array' as const, items })),
  ),
})).v;

test('what the encoder writes reads back as it was', () => {
  fc.assert(
    fc.property(fc.array(value, { maxLength: 5 }), (values) => {
      const normal = JSON.parse(JSON.stringify(values, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
      const back = JSON.parse(
        JSON.stringify(decodeValues(encodeValues(values)), (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)),
      );
      assert.deepEqual(back, normal);
    }),
    { numRuns: fuzzRuns(5_000) },
  );
});
