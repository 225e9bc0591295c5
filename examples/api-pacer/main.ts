/**
 * api-pacer's host: starts the stand-in API (20 requests per sliding second, then 429), runs the
 * `pacer` timer of config.ts with the API's URL in `data`, pushes bursty input into the queue
 * `requests`, prints a line per second, and a summary: requests/s while a backlog lasted, the
 * most requests the API saw in any sliding second, and the 429s (the exit code is 1 if any).
 *
 *   node --import tsx examples/api-pacer/main.ts [--seconds N]   (default 30, 1 to 3600)
 *
 * `runPacer()` is the same run as a function, for the end-to-end test.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { secondsArg } from '../seconds-arg.js';
import { PTimer } from 'ptimer';
import { maxInWindow, startRateLimitedApi } from './api-server.js';

export interface PacerSummary {
  seconds: number;
  pushed: number;
  /** Requests the API received (every status). */
  arrived: number;
  ok: number;
  rejected429: number;
  /** What the route counted (table `results`). */
  routeCounts: Record<string, number>;
  maxInAnySecond: number;
  /** Requests per second at the API while the queue held a backlog (0 if it never did for 1 s). */
  backlogRate: number;
  backlogSeconds: number;
  /** Each id the API accepted, once (a duplicate would be a request sent twice). */
  duplicates: number;
  queuedAtEnd: number;
  /** From release (the route's take) to arrival at the API, ms: p50, p99, max. */
  delayMs: { p50: number; p99: number; max: number };
  /** The shortest time between an arrival and the 20th after it, ms (>= 1000: no window held 21). */
  minArrivalSpanMs: number;
}

/** The input: bursts (at second, count) and a trickle (from, to, per second), truncated to the run. */
const BURSTS: Array<[number, number]> = [
  [0, 100],
  [3, 60],
  [15, 200],
  [26, 50],
];
const TRICKLE: [number, number, number] = [8, 14, 10];

export async function runPacer(options: { seconds: number; print?: (line: string) => void }): Promise<PacerSummary> {
  const { seconds } = options;
  const print = options.print ?? (() => {});
  const api = await startRateLimitedApi({ limit: 20, windowMs: 1000 });
  const pt = await PTimer.fromFile(fileURLToPath(new URL('./config.ts', import.meta.url)), {
    log: { level: 'warn' },
    data: { api: api.url, timeoutMs: 2_000 },
  });
  const queue = pt.queue('requests');
  const results = pt.table('results');
  const count = (key: string) => (results.get(key) as number | undefined) ?? 0;
  let pushed = 0;
  const push = (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = `req-${++pushed}`;
      if (!queue.push(JSON.stringify({ id, at: Date.now() }), id)) throw new Error(`queue full at ${id}`);
    }
  };

  // Backlog samples: every 50 ms, whether requests were waiting.
  const samples: Array<{ at: number; backlog: boolean }> = [];
  const started = Date.now();
  await pt.run();
  const timers: NodeJS.Timeout[] = [];
  for (const [at, n] of BURSTS) if (at < seconds) timers.push(setTimeout(() => push(n), at * 1000));
  const [from, to, rate] = TRICKLE;
  for (let ms = from * 1000; ms < Math.min(to, seconds) * 1000; ms += 1000 / rate)
    timers.push(setTimeout(() => push(1), ms));
  const sampler = setInterval(() => samples.push({ at: Number(process.hrtime.bigint()), backlog: queue.size > 1 }), 50);

  let lastArrived = 0;
  const second = setInterval(() => {
    const arrived = api.arrivals.length;
    const elapsed = Math.round((Date.now() - started) / 1000);
    const rejected = api.arrivals.filter((a) => a.status === 429).length;
    print(
      `[${String(elapsed).padStart(3)} s] queued ${String(queue.size).padStart(3)}, sent ${arrived - lastArrived} this second, ${arrived} in all, 429s ${rejected}`,
    );
    lastArrived = arrived;
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(second);
  clearInterval(sampler);
  for (const t of timers) clearTimeout(t);
  await pt.stop();
  const queuedAtEnd = queue.size;
  await api.close();

  const arrivals = [...api.arrivals].sort((a, b) => a.at - b.at);
  const times = arrivals.map((a) => a.at);
  // Backlog periods: runs of samples with requests waiting; the rate is the arrivals within them.
  let backlogNs = 0;
  let backlogArrivals = 0;
  for (let i = 0; i < samples.length;) {
    if (!samples[i]!.backlog) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < samples.length && samples[j + 1]!.backlog) j++;
    const [a, b] = [samples[i]!.at, samples[j]!.at];
    if (b - a >= 1e9) {
      backlogNs += b - a;
      backlogArrivals += times.filter((t) => t >= a && t < b).length;
    }
    i = j + 1;
  }
  const ids = arrivals.filter((a) => a.status === 200).map((a) => a.id);
  const delays = arrivals
    .filter((a) => a.releasedAt !== null)
    .map((a) => (a.at - a.releasedAt!) / 1e6)
    .sort((x, y) => x - y);
  const pick = (q: number) =>
    delays.length === 0 ? 0 : Number(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(2));
  let minSpan = Infinity;
  for (let i = 20; i < times.length; i++) minSpan = Math.min(minSpan, times[i]! - times[i - 20]!);
  return {
    seconds,
    pushed,
    arrived: arrivals.length,
    ok: arrivals.filter((a) => a.status === 200).length,
    rejected429: arrivals.filter((a) => a.status === 429).length,
    routeCounts: Object.fromEntries(['sent', 'ok', 'rejected', 'failed', 'held', 'busy'].map((k) => [k, count(k)])),
    maxInAnySecond: maxInWindow(times, 1e9),
    backlogRate: backlogNs > 0 ? backlogArrivals / (backlogNs / 1e9) : 0,
    backlogSeconds: backlogNs / 1e9,
    duplicates: ids.length - new Set(ids).size,
    queuedAtEnd,
    delayMs: { p50: pick(0.5), p99: pick(0.99), max: delays.length === 0 ? 0 : Number(delays.at(-1)!.toFixed(2)) },
    minArrivalSpanMs: Number((minSpan / 1e6).toFixed(2)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = secondsArg({
    usage: 'usage: node --import tsx examples/api-pacer/main.ts [--seconds N]   (default 30)',
    defaultSeconds: 30,
    min: 1,
    max: 3600,
  });
  console.log(
    `api-pacer: bursty requests for ${seconds} s to an API that answers 429 to a 21st request within any sliding second`,
  );
  const s = await runPacer({ seconds, print: (line) => console.log(line) });
  console.log(
    `pushed ${s.pushed}, the API received ${s.arrived} (${s.ok} ok, ${s.rejected429} answered 429), ${s.queuedAtEnd} still queued; ` +
      `most in any sliding second: ${s.maxInAnySecond}; ${s.backlogRate.toFixed(2)} requests/s over ${s.backlogSeconds.toFixed(1)} s of backlog; ` +
      `release to arrival p50/p99/max ${s.delayMs.p50}/${s.delayMs.p99}/${s.delayMs.max} ms; shortest span of 21 arrivals ${s.minArrivalSpanMs} ms; ` +
      `the route counted ${JSON.stringify(s.routeCounts)}`,
  );
  process.exitCode = s.rejected429 > 0 || s.duplicates > 0 ? 1 : 0;
}
