/**
 * The jsonrpcs FIFO framing on arbitrary input: JSON objects written back to back come out
 * whole and in order however the stream is cut, and arbitrary text never throws and never
 * makes the splitter hold more than its bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonDocumentSplitter } from '../../src/rpc/jsonrpcs-framing.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

const cuts = (text: string, points: number[]): string[] => {
  const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
};

test('objects back to back come out whole and in order, cut anywhere', () => {
  fc.assert(
    fc.property(
      fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom('', '\n', ' \r\n'),
      (objects, points, sep) => {
        const texts = objects.map((o) => JSON.stringify(o));
        const splitter = new JsonDocumentSplitter(1 << 20);
        const got: string[] = [];
        for (const piece of cuts(texts.join(sep), points)) {
          for (const e of splitter.push(piece)) if (e.kind === 'document') got.push(e.text);
        }
        assert.deepEqual(got, texts);
        assert.equal(splitter.pending, 0);
      },
    ),
    { numRuns: fuzzRuns(5_000) },
  );
});

test('arbitrary text: no throw, and never more than the bound held', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: fc.constantFrom('{', '}', '"', '\\', 'a', ' ', '\n', 'é'), maxLength: 60 }), {
        maxLength: 20,
      }),
      (chunks) => {
        const splitter = new JsonDocumentSplitter(64);
        for (const c of chunks) {
          for (const e of splitter.push(c)) if (e.kind === 'document') assert.ok(Buffer.byteLength(e.text) <= 64);
          assert.ok(splitter.pending <= 64);
        }
      },
    ),
    { numRuns: fuzzRuns(5_000) },
  );
});
