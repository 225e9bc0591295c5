/**
 * Queue throughput: items per second through one SharedQueue, pushed by P producer threads and
 * taken by C consumer threads at once (1/1 and 4/4), for short strings and for 1 KB Buffers
 * (a SIP INVITE's size), with consumers taking batches of 1 and of 64; and the uncontended cost
 * of one push + take in a single thread.
 *
 *   node --import tsx bench/queue-throughput.ts [--items N] [--quick]
 *
 * Each case moves N items (default 1,000,000; --quick 200,000) and checks that every one came
 * out once. The clock runs from the moment every thread is released until the last item is
 * taken. Worker threads run this same file, bundled with esbuild (they cannot load TypeScript).
 * Figures depend on the machine's cores: with more threads than cores, a thread preempted while
 * holding the queue's lock stalls the others for a scheduler tick.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SharedQueue, type SharedQueueHandle } from '../src/data/shared-queue.js';

interface Job {
  role: 'producer' | 'consumer';
  handle: SharedQueueHandle;
  control: SharedArrayBuffer; // Int32: [0] go, [1] producers done, [2] items taken
  items: number; // a producer's share
  producers: number;
  total: number;
  payload: 'string' | 'buffer';
  batch: number;
}

const idle = new Int32Array(new SharedArrayBuffer(4));

function payloadOf(kind: Job['payload']): string | Uint8Array {
  return kind === 'string' ? 'sip:alice@example.com;call-id=0123456789' : Buffer.alloc(1024, 'x');
}

function runJob(job: Job): void {
  const q = SharedQueue.attach(job.handle);
  const c = new Int32Array(job.control);
  while (Atomics.load(c, 0) === 0) Atomics.wait(c, 0, 0, 20);
  if (job.role === 'producer') {
    const value = payloadOf(job.payload);
    for (let i = 0; i < job.items; i++) while (!q.push(value)) Atomics.wait(idle, 0, 0, 0.02);
    Atomics.add(c, 1, 1);
  } else {
    for (;;) {
      const got = q.take(job.batch).length;
      if (got > 0) {
        Atomics.add(c, 2, got);
        continue;
      }
      if (Atomics.load(c, 2) >= job.total) break;
      Atomics.wait(idle, 0, 0, 0.02);
    }
  }
  parentPort!.postMessage('done');
}

if (!isMainThread) {
  runJob(workerData as Job);
} else {
  await main();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: node --import tsx bench/queue-throughput.ts [--items N] [--quick]');
    return;
  }
  const itemsArg = args.indexOf('--items');
  const total = itemsArg >= 0 ? Number(args[itemsArg + 1]) : args.includes('--quick') ? 200_000 : 1_000_000;
  if (!Number.isInteger(total) || total < 1000 || total > 100_000_000)
    throw new Error(`--items: expected an integer from 1000 to 100000000; got ${args[itemsArg + 1]}`);

  const { buildSync } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-bench-queue-'));
  const bundle = join(dir, 'queue-throughput.mjs');
  buildSync({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: bundle,
    logLevel: 'error',
    external: ['esbuild'],
  });

  console.log(
    `# SharedQueue throughput (${total} items per case; ${availableParallelism()} cores: ${cpus()[0]?.model ?? '?'}; Node ${process.version})`,
  );
  console.log(single(Math.min(total, 1_000_000)));
  console.log('| producers / consumers | value | take batch | items/s | seconds |');
  console.log('|---|---|---|---|---|');
  try {
    for (const [p, c] of [
      [1, 1],
      [4, 4],
    ] as const) {
      for (const payload of ['string', 'buffer'] as const) {
        for (const batch of [1, 64]) {
          const n = payload === 'buffer' ? Math.max(1000, Math.floor(total / 4)) : total;
          const seconds = await threaded(pathToFileURL(bundle), p, c, payload, batch, n);
          const label = payload === 'string' ? '40 B string' : '1 KB Buffer';
          console.log(
            `| ${p} / ${c} | ${label} | ${batch} | ${Math.round(n / seconds).toLocaleString('en-US')} | ${seconds.toFixed(2)} (${n} items) |`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One thread, no contention: the cost of a push and a take. */
function single(n: number): string {
  const q = SharedQueue.create({ name: 'bench', size: 10_000, maxBytes: 1 << 24, addmode: 0 });
  const value = payloadOf('string');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    q.push(value);
    q.take(1);
  }
  const ns = ((performance.now() - t0) * 1e6) / n;
  return `single thread, uncontended: push + take(1) of a 40 B string: ${ns.toFixed(0)} ns (${Math.round(1e9 / ns).toLocaleString('en-US')} items/s)\n`;
}

async function threaded(
  url: URL,
  producers: number,
  consumers: number,
  payload: Job['payload'],
  batch: number,
  total: number,
): Promise<number> {
  const q = SharedQueue.create({ name: 'bench', size: 10_000, maxBytes: 1 << 24, addmode: 0 });
  const control = new SharedArrayBuffer(12);
  const c = new Int32Array(control);
  const per = Math.floor(total / producers);
  const n = per * producers;
  const base = { handle: q.handle, control, producers, total: n, payload, batch, items: per };
  const workers = [
    ...Array.from(
      { length: producers },
      () => new Worker(url, { workerData: { ...base, role: 'producer' } satisfies Job }),
    ),
    ...Array.from(
      { length: consumers },
      () => new Worker(url, { workerData: { ...base, role: 'consumer' } satisfies Job }),
    ),
  ];
  try {
    await Promise.all(workers.map((w) => once(w, 'online')));
    const t0 = performance.now();
    Atomics.store(c, 0, 1);
    Atomics.notify(c, 0);
    await Promise.all(workers.map((w) => once(w, 'message')));
    const seconds = (performance.now() - t0) / 1000;
    if (Atomics.load(c, 2) !== n || q.size !== 0)
      throw new Error(`items lost or left: taken ${Atomics.load(c, 2)} of ${n}, ${q.size} queued`);
    return seconds;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
