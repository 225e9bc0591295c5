/**
 * adaptive-routing's host: runs `route_optimizer` (config.ts) with data.json as `ctx.data`,
 * plays a KPI feed into the table `kpi_in` on a fixed timeline (gw-eu-1's MOS drops at 1 s and
 * recovers at 3.5 s; gw-us-2's completion ratio drops at 2 s and stays down), and routes a call
 * per set every 50 ms to the first destination of its set that `dst_kpi` marks up (none: the
 * call is refused, "no route"). A line per second says where the calls went; at the end, the
 * workers' states (the `apac` set is unknown: its worker ended at start).
 *
 *   node --import tsx examples/adaptive-routing/main.ts [--seconds N]   (default 6, 1 to 3600)
 *
 * `runRouting()` is the same run as a function, for the end-to-end test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { secondsArg } from '../seconds-arg.js';
import { PTimer } from 'ptimer';
import type { RoutingData } from './config.js';

const GOOD = { mos: 4.2, ccr: 0.97, ner: 0.99 };
/** The KPI feed: [ms after start, destination, kpi, value]. */
export const FEED: Array<[number, string, 'mos' | 'ccr' | 'ner', number]> = [
  [1000, 'gw-eu-1', 'mos', 2.9],
  [2000, 'gw-us-2', 'ccr', 0.7],
  [2000, 'gw-us-1', 'ner', 0.5],
  [3500, 'gw-eu-1', 'mos', 4.1],
];

export interface RoutingSummary {
  /** Per call: when (ms since the feed started), its set, and where it went (null: no route). */
  calls: Array<{ at: number; set: string; dst: string | null }>;
  /** Mark changes the host saw: when (ms), destination, up (true), down (false) or unmarked (null). */
  marks: Array<{ at: number; dst: string; up: boolean | null; why: string | null }>;
  workers: Array<{ worker: number; state: string; route: string; errors: number }>;
}

export function loadData(): RoutingData {
  return JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8')) as RoutingData;
}

export async function runRouting(options: {
  seconds: number;
  print?: (line: string) => void;
}): Promise<RoutingSummary> {
  const print = options.print ?? (() => {});
  const data = loadData();
  const pt = await PTimer.fromFile(fileURLToPath(new URL('./config.ts', import.meta.url)), {
    log: { level: 'error' },
    data,
  });
  const kpi = pt.table('kpi_in');
  const marks = pt.table('dst_kpi');
  const destinations = Object.values(data.sets).flat();
  for (const dst of destinations) for (const [name, value] of Object.entries(GOOD)) kpi.set(`${dst}:${name}`, value);
  await pt.run();
  const t0 = Date.now();
  const timers = FEED.map(([at, dst, name, value]) => setTimeout(() => kpi.set(`${dst}:${name}`, value), at));

  const summary: RoutingSummary = { calls: [], marks: [], workers: [] };
  const seen = new Map<string, boolean | null>();
  const markOf = (dst: string): boolean | null => {
    const v = marks.get(dst);
    return v === undefined ? null : v === 1;
  };
  const route = () => {
    const at = Date.now() - t0;
    for (const dst of destinations) {
      const up = markOf(dst);
      if (seen.get(dst) !== up) {
        seen.set(dst, up);
        summary.marks.push({ at, dst, up, why: (marks.get(`${dst}:why`) as string | undefined) ?? null });
      }
    }
    // One call per set: the first destination marked up.
    for (const set of new Set(data.workers)) {
      const dst = (data.sets[set] ?? []).find((d) => markOf(d) === true) ?? null;
      summary.calls.push({ at, set, dst });
    }
  };
  const caller = setInterval(route, 50);
  let from = 0;
  const second = setInterval(() => {
    const to = Date.now() - t0;
    const recent = summary.calls.filter((c) => c.at >= from && c.at < to);
    from = to;
    const where = [...new Set(data.workers)].map((set) => {
      const mine = recent.filter((c) => c.set === set);
      const counts = new Map<string, number>();
      for (const c of mine) counts.set(c.dst ?? 'no route', (counts.get(c.dst ?? 'no route') ?? 0) + 1);
      return `${set}: ${[...counts].map(([d, n]) => `${n} to ${d}`).join(', ') || 'none'}`;
    });
    const down = destinations.filter((d) => markOf(d) === false).map((d) => `${d} (${marks.get(`${d}:why`)})`);
    print(
      `[${String(Math.round(to / 1000)).padStart(3)} s] calls ${where.join(' | ')}; down: ${down.join(', ') || 'none'}`,
    );
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  clearInterval(caller);
  clearInterval(second);
  for (const t of timers) clearTimeout(t);
  summary.workers = pt
    .list()[0]!
    .workers.map((w) => ({ worker: w.worker, state: w.state, route: w.route, errors: w.errors }));
  await pt.stop();
  return summary;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = secondsArg({
    usage: 'usage: node --import tsx examples/adaptive-routing/main.ts [--seconds N]   (default 6)',
    defaultSeconds: 6,
    min: 1,
    max: 3600,
  });
  const data = loadData();
  console.log(
    `adaptive-routing: route_optimizer, one worker per set (${data.workers.join(', ')}), every 500 ms; a call per set every 50 ms`,
  );
  const s = await runRouting({ seconds, print: (line) => console.log(line) });
  for (const m of s.marks)
    console.log(
      `  at ${String(m.at).padStart(5)} ms ${m.dst} ${m.up === null ? 'unmarked' : m.up ? 'up' : `down (${m.why})`}`,
    );
  for (const w of s.workers) console.log(`worker ${w.worker} (${data.workers[w.worker]}): ${w.state}`);
}
