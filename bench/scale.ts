/**
 * The scale scenario: what many workers cost. Each case runs in a child process of its own
 * (`--child NAME`), beside two C programs measured in the same run: as many POSIX threads as
 * there are workers, each sleeping to its deadlines with clock_nanosleep (bench/c/c-threads.c),
 * and ptimer's own design in C, the same workers on as many threads as ptimer used, each thread
 * sleeping to its earliest deadline (bench/c/c-scheduler.c): what this machine allows.
 *
 * The window is the steady state: it opens SETTLE_AFTER_START_MS after the process started.
 * V8 collects each isolate's start-up garbage about 8-10 s after start (the memory reducer: a
 * few full collections, on its helper threads, in every isolate of the process), which took
 * 1.4 % of a core over a 10 s window that began 2 s after start (measured with --trace-gc and
 * /proc on 2 cores: one sync timer at 1 ms, 7.3 % against 5.6 % once that was past). It happens
 * once; a timer runs for hours. The CPU from warm-up to the window is reported too (start-up).
 *
 * Per case: run() time; CPU of the whole process (all threads) over the window, in % of one
 * core, and of the scheduler threads alone (from /proc: the rest is the main thread, V8's
 * helpers and libuv's); RSS at the end; per worker, the loop lateness p50 and p99 over the
 * window (the route's own timestamp against ctx.deadline, in buckets about 19 % wide, upper
 * bounds shown: the worst worker's p99, the median worker's, and how many workers' p99 was over
 * 250 us) and the ticks dropped in the window (overruns / ticks due).
 *
 * usage: node --import tsx bench/scale.ts [--seconds N] [--only NAME,...] [--out DIR]
 *        (npm run bench runs it after the precision cases)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compiledC, findCompiler } from './c-compile.js';
import { runProgram } from './external-program.js';

import { SCALE_CASES, type ScaleCase } from './scale-cases.js';

export { SCALE_CASES, type ScaleCase };

export interface ScaleResult {
  name: string;
  what: string;
  runMs: number;
  cpuPercent: number;
  rssMb: number;
  threads: number;
  workers: number;
  worstP99Us: number;
  /** The median of the workers' p99s, and how many workers' p99 was over 250 us. */
  medianP99Us: number;
  workersOver250Us: number;
  medianP50Us: number;
  /** CPU of the scheduler threads alone (the rest of cpuPercent: the main thread, V8's and libuv's), % of one core; NaN without /proc. */
  schedulerCpuPercent: number;
  /** CPU of the whole process from the end of warm-up to the window (V8's start-up collections fall in it). */
  startupCpuPercent: number;
  worstDroppedPercent: number;
  droppedTicks: number;
  dueTicks: number;
  /** One C thread per worker (bench/c/c-threads.c); null without a C compiler. */
  c: { cpuPercent: number; rssMb: number; late: number; made: number; worstP99Us: number; medianP99Us: number } | null;
  /** ptimer's design in C on as many threads (bench/c/c-scheduler.c); null without a C compiler. */
  cScheduler: CSchedulerResult | null;
}

export interface CSchedulerResult {
  threads: number;
  cpuPercent: number;
  rssMb: number;
  worstP99Us: number;
  medianP99Us: number;
  workersOver250Us: number;
  medianP50Us: number;
  worstDroppedPercent: number;
  droppedTicks: number;
  dueTicks: number;
}

const ROUTES = fileURLToPath(new URL('./scale-routes.mjs', import.meta.url));
/** Histogram buckets per worker, and slots for the scheduler threads' ids (bench/scale-routes.mjs). */
const BUCKETS = 64;
const TID_SLOTS = 64;
/** /proc's clock ticks (USER_HZ): 100 on Linux. */
const CLOCK_TICKS_PER_S = 100;

/**
 * CPU ticks (utime + stime) of the scheduler threads whose ids the routes noted, from
 * /proc/self/task/TID/stat; null where there is no /proc.
 */
function threadTicks(tids: SharedArrayBuffer): { scheduler: number } | null {
  let scheduler = 0;
  try {
    for (const tid of new Int32Array(tids)) {
      if (tid === 0) break;
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      scheduler += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return null;
  }
  return { scheduler };
}
const SELF = fileURLToPath(import.meta.url);
/** After run(): the first runs compile the engine's code. */
const WARMUP_MS = 1_500;
/** The window opens this long after the process started (performance.now()'s origin), past V8's start-up collections. */
const SETTLE_AFTER_START_MS = 12_000;

/** In the child: build the timers, run, measure over the window, print one JSON line. */
async function child(spec: ScaleCase, seconds: number): Promise<void> {
  const { PTimer } = await import('../dist/index.js');
  const interval = `${spec.intervalNs / 1e6}ms`;
  const timer = Array.from({ length: spec.timers }, (_, i) => ({
    name: `t${i}`,
    interval,
    nworkers: spec.workersPerTimer,
    loop: 'LOOP',
  }));
  const workers = spec.timers * spec.workersPerTimer;
  const buffer = new SharedArrayBuffer(4 + workers * BUCKETS * 4);
  const tids = new SharedArrayBuffer(TID_SLOTS * 4);
  const pt = await PTimer.create(
    { timer },
    { routes: ROUTES, log: { level: 'warn' }, data: { buffer, tids, workersPerTimer: spec.workersPerTimer } },
  );
  const recording = new Int32Array(buffer, 0, 1);
  const counts = new Int32Array(buffer, 4);
  const began = performance.now();
  await pt.run();
  const runMs = performance.now() - began;
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const startupCpu0 = process.cpuUsage();
  const startupWall0 = performance.now();
  await new Promise((r) => setTimeout(r, Math.max(0, SETTLE_AFTER_START_MS - performance.now())));
  const startupCpu = process.cpuUsage(startupCpu0);
  const startupCpuPercent = ((startupCpu.user + startupCpu.system) / 1000 / (performance.now() - startupWall0)) * 100;
  const snapshot = () => pt.list().flatMap((t) => t.workers.map((w) => ({ ...w, key: `${t.name}/${w.worker}` })));
  const before = new Map(snapshot().map((w) => [w.key, w]));
  Atomics.store(recording, 0, 1);
  const ticks0 = threadTicks(tids);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const ticks1 = threadTicks(tids);
  Atomics.store(recording, 0, 0);
  const wallMs = performance.now() - wall0;
  const after = snapshot();
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  let worstDropped = 0;
  let dropped = 0;
  let due = 0;
  for (const w of after) {
    const b = before.get(w.key)!;
    const runs = w.iterations - b.iterations;
    const over = w.overruns - b.overruns;
    dropped += over;
    due += runs + over;
    worstDropped = Math.max(worstDropped, runs + over > 0 ? (100 * over) / (runs + over) : 0);
  }
  // Per worker, from the routes' own histograms over the window: the bucket's upper bound.
  const quantileUs = (w: number, q: number) => {
    const row = counts.subarray(w * BUCKETS, (w + 1) * BUCKETS);
    const total = row.reduce((a, b) => a + b, 0);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += row[b]!;
      if (seen >= q * total) return 2 ** (b / 4);
    }
    return Infinity;
  };
  const p99s = Array.from({ length: workers }, (_, w) => quantileUs(w, 0.99));
  const p50s = Array.from({ length: workers }, (_, w) => quantileUs(w, 0.5)).sort((a, b) => a - b);
  const sortedP99s = [...p99s].sort((a, b) => a - b);
  const schedulerTicks = ticks0 && ticks1 ? ticks1.scheduler - ticks0.scheduler : NaN;
  const tickMs = 1000 / CLOCK_TICKS_PER_S;
  const result = {
    runMs,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    rssMb,
    threads: new Set(after.map((w) => w.thread)).size,
    workers: after.length,
    worstP99Us: Math.max(...p99s),
    medianP99Us: sortedP99s[Math.floor(sortedP99s.length / 2)]!,
    workersOver250Us: p99s.filter((p) => p > 250).length,
    schedulerCpuPercent: ((schedulerTicks * tickMs) / wallMs) * 100,
    startupCpuPercent,
    medianP50Us: p50s[Math.floor(p50s.length / 2)]!,
    worstDroppedPercent: worstDropped,
    droppedTicks: dropped,
    dueTicks: due,
  };
  await pt.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(spec: ScaleCase, seconds: number): Promise<Omit<ScaleResult, 'name' | 'what' | 'c' | 'cScheduler'>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', SELF, '--child', spec.name, '--seconds', String(seconds)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`scale case ${spec.name} exited with ${code} and printed no result:\n${out}`));
      }
    });
  });
}

/** The C programs print one `name value` per line: the value of `name`, or an error naming the program and the line missing. */
function outputFields(stdout: string, program: string): (name: string) => number {
  return (name) => {
    const m = new RegExp(`^${name} ([\\d.]+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`${program} printed no "${name}" line:\n${stdout}`);
    return Number(m[1]);
  };
}

async function cReference(spec: ScaleCase, seconds: number): Promise<ScaleResult['c']> {
  const cc = findCompiler();
  if (!cc) return null;
  const binary = await compiledC(cc, 'c-threads', ['-pthread']);
  const threads = spec.timers * spec.workersPerTimer;
  const out = await runProgram(
    binary,
    [String(threads), String(spec.intervalNs), String(seconds * 1e9)],
    seconds * 3000 + 30_000,
  );
  const field = outputFields(out.stdout, 'c-threads');
  return {
    cpuPercent: (field('cpu_us') / 1000 / (field('wall_ns') / 1e6)) * 100,
    rssMb: field('maxrss_kb') / 1024,
    late: field('runs_late'),
    made: field('runs_made'),
    worstP99Us: field('worst_p99_ns') / 1000,
    medianP99Us: field('median_p99_ns') / 1000,
  };
}

/**
 * ptimer's design in C: the case's workers on `threads` threads (as many as ptimer used), grid
 * origins placed as ptimer places them (one per timer, spread over 1 ms steps; a timer's workers
 * share one), no spin: the operating system's own wake-ups.
 */
async function cSchedulerReference(
  spec: ScaleCase,
  threads: number,
  seconds: number,
): Promise<CSchedulerResult | null> {
  const cc = findCompiler();
  if (!cc) return null;
  const binary = await compiledC(cc, 'c-scheduler', ['-pthread']);
  const workers = spec.timers * spec.workersPerTimer;
  const spread = spec.workersPerTimer === 1 ? 1 : 0;
  const out = await runProgram(
    binary,
    [String(threads), String(workers), String(spec.intervalNs), String(seconds * 1e9), String(spread), '0'],
    seconds * 3000 + 30_000,
  );
  const field = outputFields(out.stdout, 'c-scheduler');
  const made = field('runs_made');
  const dropped = field('ticks_dropped');
  return {
    threads,
    cpuPercent: (field('cpu_us') / 1000 / (field('wall_ns') / 1e6)) * 100,
    rssMb: field('maxrss_kb') / 1024,
    worstP99Us: field('worst_p99_us'),
    medianP99Us: field('median_p99_us'),
    workersOver250Us: field('workers_over_250us'),
    medianP50Us: field('median_p50_us'),
    worstDroppedPercent: field('worst_dropped_ppm') / 1e4,
    droppedTicks: dropped,
    dueTicks: made + dropped,
  };
}

export async function runScale(seconds: number, only: readonly string[] | null): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const spec of SCALE_CASES) {
    if (only && !only.includes(spec.name)) continue;
    process.stderr.write(`scale: ${spec.what} (${seconds} s) ...\n`);
    const ptimer = await runChild(spec, seconds);
    const c = await cReference(spec, seconds);
    const cScheduler = await cSchedulerReference(spec, ptimer.threads, seconds);
    results.push({ name: spec.name, what: spec.what, ...ptimer, c, cScheduler });
  }
  return results;
}

const f = (n: number, digits = 1) => n.toFixed(digits);

/** Two tables: ptimer's figures, then the two C references of the same run. */
export function renderScale(results: readonly ScaleResult[]): string {
  const pct = (n: number) => `${f(n)} %`;
  const lines = [
    '| case | threads | run() | CPU, steady (scheduler threads) | CPU, start-up | RSS | worst worker p99 | median worker p99 (workers over 250 us) | median p50 | worst worker dropped |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.what} | ${r.threads} | ${f(r.runMs, 0)} ms | ${pct(r.cpuPercent)} (${Number.isFinite(r.schedulerCpuPercent) ? pct(r.schedulerCpuPercent) : '-'}) | ${Number.isFinite(r.startupCpuPercent) ? pct(r.startupCpuPercent) : '-'} | ${f(r.rssMb, 0)} MB | ${f(r.worstP99Us)} us | ${f(r.medianP99Us)} us (${r.workersOver250Us} of ${r.workers}) | ${f(r.medianP50Us, 2)} us | ${f(r.worstDroppedPercent, 2)} % (${r.droppedTicks} of ${r.dueTicks} in all) |`,
    );
  }
  lines.push(
    '',
    "The same cases in C, in the same run: a thread per worker (c-threads), and ptimer's design (c-scheduler: the workers on as many threads as ptimer used, no spin).",
    '',
    '| case | c-threads: CPU | RSS | worst thread p99 | median thread p99 | late >= 1 period | c-scheduler: threads | CPU | worst worker p99 | median worker p99 (workers over 250 us) | median p50 | worst worker dropped |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) {
    const c = r.c
      ? [
          pct(r.c.cpuPercent),
          `${f(r.c.rssMb, 1)} MB`,
          `${f(r.c.worstP99Us)} us`,
          `${f(r.c.medianP99Us)} us`,
          `${r.c.late} of ${r.c.made}`,
        ]
      : ['-', '-', '-', '-', '-'];
    const s = r.cScheduler;
    const cs = s
      ? [
          String(s.threads),
          pct(s.cpuPercent),
          `${f(s.worstP99Us)} us`,
          `${f(s.medianP99Us)} us (${s.workersOver250Us} of ${r.workers})`,
          `${f(s.medianP50Us, 2)} us`,
          `${f(s.worstDroppedPercent, 2)} % (${s.droppedTicks} of ${s.dueTicks} in all)`,
        ]
      : ['-', '-', '-', '-', '-', '-'];
    lines.push(`| ${r.what} | ${[...c, ...cs].join(' | ')} |`);
  }
  return lines.join('\n');
}

const isMain = process.argv[1] === SELF;
if (isMain) {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      `usage: node --import tsx bench/scale.ts [--seconds N] [--only ${SCALE_CASES.map((c) => c.name).join(',')}] [--out DIR]`,
    );
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) {
    console.error(`--seconds must be an integer from 1 to 600, got ${JSON.stringify(values.seconds)}`);
    process.exit(2);
  }
  if (values.child) {
    const spec = SCALE_CASES.find((c) => c.name === values.child);
    if (!spec) throw new Error(`unknown scale case ${values.child}`);
    await child(spec, seconds);
  } else {
    const only = values.only ? values.only.split(',') : null;
    const unknown = only?.filter((n) => !SCALE_CASES.some((c) => c.name === n)) ?? [];
    if (unknown.length > 0) {
      console.error(
        `--only: unknown case ${unknown.join(', ')}; the cases are ${SCALE_CASES.map((c) => c.name).join(', ')}`,
      );
      process.exit(2);
    }
    const results = await runScale(seconds, only);
    const table = renderScale(results);
    console.log(table);
    const dir = values.out ?? join(fileURLToPath(new URL('./results', import.meta.url)));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'scale.json'),
      `${JSON.stringify({ date: new Date().toISOString(), seconds, results }, null, 2)}\n`,
    );
    writeFileSync(join(dir, 'scale.md'), `${table}\n`);
  }
}
