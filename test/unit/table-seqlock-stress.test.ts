/**
 * The table's seqlock under a real writer thread (issue 16, defect 12): a reader copying a value
 * while another thread rewrites it never returns a torn value, because the copy is validated
 * against the bucket's sequence, read with atomic loads (which on a weakly ordered CPU cannot be
 * satisfied after the validating load). The same race read without the validation tears: the
 * test proves it can see a tear, so its "never torn" means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedTable } from '../../src/data/shared-table.js';

const LEN = 1000;

test('values read while another thread rewrites them: never torn with the sequence, torn without it', async () => {
  const table = SharedTable.create(
    { name: 'seq', size: 1, maxEntries: 4, autoexpire: 0 },
    { maxValueBytes: LEN },
    () => 0,
  );
  table.set('k', 'a'.repeat(LEN));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('../../src/data/shared-table.ts', import.meta.url).href;
  const writer = new Worker(
    `const { workerData } = await import('node:worker_threads');
     const { tsImport } = await import(workerData.tsx);
     const { SharedTable } = await tsImport(workerData.source, workerData.source);
     const t = SharedTable.attach(workerData.handle);
     const values = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i).repeat(${LEN}));
     for (let i = 0; Atomics.load(workerData.stop, 0) === 0; i++) t.set('k', values[i % 26]);`,
    { eval: true, workerData: { tsx, source, handle: table.handle, stop } },
  );
  const exited = new Promise((resolve, reject) => {
    writer.once('exit', resolve);
    writer.once('error', reject);
  });
  // Wait until the writer is writing.
  const t0 = Date.now();
  while (table.get('k') === 'a'.repeat(LEN) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 1));
  const uniform = (s: string) => s.length === LEN && s === s[0]!.repeat(LEN);
  // The validated reads: never torn (each may retry while the writer is mid-write, so they are few).
  let reads = 0;
  let tornValidated = 0;
  const validatedUntil = Date.now() + 1_500;
  while (Date.now() < validatedUntil && reads < 20_000) {
    const v = table.get('k');
    reads++;
    if (typeof v !== 'string' || !uniform(v)) tornValidated++;
  }
  // The same copy without the sequence check (the value's bytes as the slot holds them now), on
  // its own, until it tears: a copy is about a microsecond, so this takes many times as many.
  let rawReads = 0;
  let tornRaw = 0;
  const bytes = new Uint8Array(table.handle.buffer);
  const rawUntil = Date.now() + 5_000;
  while (tornRaw === 0 && Date.now() < rawUntil) {
    const raw = Buffer.from(bytes.slice(rawAt, rawAt + LEN)).toString('latin1');
    rawReads++;
    if (!uniform(raw)) tornRaw++;
  }
  Atomics.store(stop, 0, 1);
  await exited;
  assert.equal(tornValidated, 0, `${tornValidated} torn of ${reads} validated reads`);
  assert.ok(
    tornRaw > 0,
    `the unvalidated copy should tear at least once in ${rawReads} reads (else this test cannot see a tear)`,
  );
});

/** Where the one slot's value bytes are: found by writing a marker once, before the race. */
let rawAt = -1;
{
  const probe = SharedTable.create(
    { name: 'seq', size: 1, maxEntries: 4, autoexpire: 0 },
    { maxValueBytes: LEN },
    () => 0,
  );
  probe.set('k', 'Z'.repeat(LEN));
  const b = new Uint8Array(probe.handle.buffer);
  rawAt = Buffer.from(b).indexOf('Z'.repeat(LEN), 0, 'latin1');
}
