/**
 * What an RPC command and a /metrics scrape cost the main thread at 20,000 and 100,000 workers
 * (issue 16, defect 5), beside `list()` measured in the same run as the reference.
 *
 *   node --import tsx bench/rpc-cost.ts
 *
 * The PTimer is built and not run (its workers' control blocks exist and read the same; no
 * thread is needed to validate a command or render /metrics). A command on a PTimer that is not
 * running is refused after its target was checked: what is timed is the dispatcher's check and
 * the refusal, which is what the O(what it names) fix is about. Each figure is the median of
 * several runs, in ms of main-thread time (performance.now() around a synchronous or awaited call).
 */
import { PTimer } from '../src/index.js';
import { RpcDispatcher } from '../src/rpc/dispatcher.js';
import { createMetrics } from '../src/rpc/metrics.js';

const median = (xs: number[]): number => {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new RangeError('median: no values (runs must be at least 1)');
  return m;
};

async function time(runs: number, fn: () => unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

for (const workers of [20_000, 100_000]) {
  const perTimer = 1_000;
  const timers = Array.from({ length: workers / perTimer }, (_, i) => ({
    name: `t${i}`,
    interval: '1s',
    loop: 'LOOP',
    nworkers: perTimer,
  }));
  const pt = await PTimer.create(
    { timer: timers },
    { routes: new URL('./scale-routes.mjs', import.meta.url), log: { level: 'silent' } },
  );
  const rpc = new RpcDispatcher(pt);
  const metrics = createMetrics(pt, { processMetrics: false });
  const list = await time(5, () => pt.list());
  const pause = await time(20, () => rpc.handle({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['t0', 3], id: 1 }));
  // The reference: the same command through a control that cannot say how many workers a timer has (the check builds list(), as before issue 16).
  const viaList = new RpcDispatcher({
    list: () => pt.list(),
    pause: (t, w) => pt.pause(t, w),
    continue: (t, w) => pt.continue(t, w),
    start: (t, w, o) => pt.start(t, w, o),
    loop: (t, w) => pt.loop(t, w),
    end: (t, w, o) => pt.end(t, w, o),
  });
  const pauseViaList = await time(5, () =>
    viaList.handle({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['t0', 3], id: 1 }),
  );
  const scrape = await time(3, () => metrics.render());
  console.log(
    `${workers} workers: ptimer.pause t0 3 ${pause.toFixed(2)} ms (through list(), as before: ${pauseViaList.toFixed(1)} ms); /metrics ${scrape.toFixed(1)} ms; list() ${list.toFixed(1)} ms`,
  );
  await pt.stop();
}
