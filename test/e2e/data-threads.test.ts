/**
 * The shared structures across real threads: 1,000,000 items through one queue from 4
 * producer threads and the host thread to 4 consumer threads, none lost, none twice, each
 * producer's items in order. (Tables and the window limiter across threads are further down.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { produce } from '../fixtures/data/queue-ids.js';
import { bundledWorker } from '../fixtures/data/bundle.js';
import type { QueueWorkerData } from '../fixtures/data/queue-worker.js';

const queueWorker = bundledWorker(new URL('../fixtures/data/queue-worker.ts', import.meta.url));

interface Report {
  role: 'producer' | 'consumer';
  index: number;
  ms: number;
  taken?: number;
  orderViolations?: number;
  typeErrors?: number;
  keyErrors?: number;
  fullRetries?: number;
}

function startWorker(url: URL, workerData: unknown): { worker: Worker; done: Promise<Report> } {
  const worker = new Worker(url, { workerData });
  const done = new Promise<Report>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
  return { worker, done };
}

test('1,000,000 items, 4 producer threads and the host to 4 consumer threads: every id exactly once, each producer in order', async () => {
  const producers = 5; // 4 threads + the host
  const perProducer = 200_000;
  const total = producers * perProducer;
  const queue = SharedQueue.create({ name: 'calls', size: 10_000, maxBytes: 1 << 20, addmode: 0 });
  const control = new SharedArrayBuffer(8 + total);
  const go = new Int32Array(control, 0, 2);
  const base = { perProducer, producers, handle: queue.handle, control, batch: 256 };
  const workers = [
    ...[0, 1, 2, 3].map((index) => startWorker(queueWorker, { ...base, role: 'producer', index } satisfies QueueWorkerData)),
    ...[0, 1, 2, 3].map((index) => startWorker(queueWorker, { ...base, role: 'consumer', index } satisfies QueueWorkerData)),
  ];
  try {
    await Promise.all(workers.map((w) => once(w.worker, 'online')));
    const started = performance.now();
    Atomics.store(go, 1, 1);
    Atomics.notify(go, 1);
    produce(queue, 4, perProducer); // the host pushes at the same time
    Atomics.add(go, 0, 1);
    const reports = await Promise.all(workers.map((w) => w.done));
    const seconds = (performance.now() - started) / 1000;

    const consumers = reports.filter((r) => r.role === 'consumer');
    assert.equal(consumers.reduce((s, r) => s + r.taken!, 0), total, 'items taken');
    for (const r of consumers) {
      assert.equal(r.orderViolations, 0, `consumer ${r.index}: every producer's ids in increasing order`);
      assert.equal(r.typeErrors, 0, `consumer ${r.index}: strings came back as strings, bytes as Uint8Array`);
      assert.equal(r.keyErrors, 0, `consumer ${r.index}: keys came back with their items`);
    }
    const seen = new Uint8Array(control, 8);
    let missing = 0;
    let twice = 0;
    for (let id = 0; id < total; id++) {
      if (seen[id] === 0) missing++;
      else if (seen[id]! > 1) twice++;
    }
    assert.deepEqual({ missing, twice }, { missing: 0, twice: 0 });
    assert.equal(queue.size, 0);
    assert.equal(queue.bytesUsed, 0);
    console.log(`# ${total} items through one queue, 5 producers (4 threads + host) / 4 consumers: ${seconds.toFixed(2)} s, ${Math.round(total / seconds)} items/s; producers found it full ${reports.reduce((s, r) => s + (r.fullRetries ?? 0), 0)} times`);
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
});
