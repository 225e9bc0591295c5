/**
 * Fault tests with a witness (issue 8, item 8), real threads: for each way a route can go wrong
 * - throws every run, rejects every run, never resolves, loops for ever, calls process.exit,
 * runs out of memory, throws at import, fails every start - the fault is detected (list() state
 * and counters), reported (routeError / workerExit events, or the rejection's message), and
 * recovered or marked failed as docs/design.md, "Workers and their life", says; and a second timer, the
 * witness, keeps >= 99 % of its ticks meanwhile.
 *
 * The witness is a sync timer at 50 ms that does nothing, on a thread of its own except in the
 * never-resolves case, whose point is that a pending promise holds only its own worker and not
 * the thread it shares. Kept ticks = runs / (runs + overruns) over a window of at least 100 ticks
 * (5 s) that covers the fault: from the witness's first run until the fault has been detected.
 * Faults are steered by flag files in a directory given as `data.dir` (see
 * test/fixtures/faults/routes.ts).
 *
 * The machine is shared and a VM: at times every process on it is held for 50-200 ms. A process
 * that has nothing to do with ptimer (test/fixtures/faults/steadiness.mjs) watches for that; when
 * a witness falls short in a window where it saw the machine stall, the scenario is run again
 * (4 reruns in all for the file); a witness that falls short while the machine was steady fails. The out-of-memory case runs in a child process started with
 * a small V8 heap (test/fixtures/faults/oom-host.ts): the runtime has no per-timer heap bound,
 * and a worker's default heap is 4 GB.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PTimer,
  type PTimerConfig,
  type RouteErrorEvent,
  type WorkerExitEvent,
  type WorkerInfo,
} from '../../src/index.js';
import { FLAG } from '../fixtures/faults/routes.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/faults/routes.ts', import.meta.url);
const importThrows = new URL('../fixtures/faults/import-throws.ts', import.meta.url);
const oomHost = fileURLToPath(new URL('../fixtures/faults/oom-host.ts', import.meta.url));
const steadinessScript = fileURLToPath(new URL('../fixtures/faults/steadiness.mjs', import.meta.url));

/**
 * The witness's window: at least this many ticks due (50 ms each, 5 s). A tick is lost only to a
 * delay longer than the interval. On this 2-core machine with other suites running (load 4-6),
 * a thread of its own, fault or no fault, sees a delay beyond 20 ms about once in 5 s and has
 * been seen held for 95 ms: at 50 ms such a stall costs one tick, which 99 % of 100 allows.
 */
const WINDOW_TICKS = 100;
const KEPT_AT_LEAST = 0.99;
/** Short timeouts so that detection takes a fraction of a second. */
const FAST = { command_timeout: '300ms', stuck_after: 1, restart_limit: '3/60s' } as const;
const WITNESS = { name: 'witness', type: 1, interval: '50ms', loop: 'WITNESS', thread: 'own' } as const;

/** Scenarios run again, in all, when the machine itself stalled during a witness's window. */
let retriesLeft = 4;

const dir = mkdtempSync(join(tmpdir(), 'ptimer-faults-witness-'));
const running: PTimer[] = [];

// The steadiness process (test/fixtures/faults/steadiness.mjs): its stalls, and how far it has reported.
let steadiness: ChildProcess | null = null;
const stalls: Array<{ at: number; lateMs: number }> = [];
let heardUpTo = 0;

before(async () => {
  const child = spawn(process.execPath, [steadinessScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  steadiness = child;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the steadiness process exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: true; beat?: number; at?: number; lateMs?: number };
      if (m.ready) resolve();
      if (m.beat !== undefined) heardUpTo = m.beat;
      if (m.at !== undefined) {
        stalls.push({ at: m.at, lateMs: m.lateMs! });
        heardUpTo = m.at;
      }
    });
  });
  await ready;
});

after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
  steadiness?.stdin?.end(); // it exits when its stdin closes
});

/** The machine stalled (seen by the steadiness process) in a window where the witness fell short. */
class MachineStalled extends Error {}

/**
 * A test whose witness window may be spoiled by the machine: when the witness falls short and
 * the steadiness process saw the machine stall in that window, the scenario runs again (from
 * scratch, its PTimers stopped first), within a budget for the whole file. A witness that falls
 * short while the machine was steady fails at once.
 */
function scenario(name: string, body: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    for (let attempt = 1; ; attempt++) {
      const mark = running.length;
      try {
        await body(t);
        return;
      } catch (error) {
        if (!(error instanceof MachineStalled) || retriesLeft === 0) throw error;
        retriesLeft--;
        t.diagnostic(`attempt ${attempt}: ${error.message}; running it again`);
      } finally {
        await Promise.all(running.slice(mark).map((pt) => pt.stop({ timeoutMs: 2_000 })));
      }
    }
  });
}

interface Harness {
  pt: PTimer;
  /** Takes a fault's flag down: the route behaves from its next run on. */
  clear: (flag: string) => void;
  routeErrors: RouteErrorEvent[];
  exits: WorkerExitEvent[];
}

let made = 0;
async function create(config: PTimerConfig, module: URL = routes, flags: string[] = []): Promise<Harness> {
  const flagDir = join(dir, String(made++));
  mkdirSync(flagDir);
  for (const flag of flags) writeFileSync(join(flagDir, flag), '');
  const clear = (flag: string) => unlinkSync(join(flagDir, flag));
  const pt = await PTimer.create(config, { routes: module, log: { level: 'silent' }, data: { dir: flagDir } });
  running.push(pt);
  const routeErrors: RouteErrorEvent[] = [];
  const exits: WorkerExitEvent[] = [];
  pt.on('routeError', (e) => routeErrors.push(e));
  pt.on('workerExit', (e) => exits.push(e));
  return { pt, clear, routeErrors, exits };
}

const worker = (pt: PTimer, timer: string, index = 0): WorkerInfo =>
  pt.list().find((t) => t.name === timer)!.workers[index]!;

interface Ticks {
  iterations: number;
  overruns: number;
  /** When they were read: process.hrtime.bigint() as a number (the monotonic clock every process shares). */
  atNs: number;
}
const ticksOf = (w: WorkerInfo): Ticks => ({
  iterations: w.iterations,
  overruns: w.overruns,
  atNs: Number(process.hrtime.bigint()),
});

/**
 * Judges a witness's window: >= 99 % of its ticks kept passes; short of that, MachineStalled if
 * the steadiness process saw a stall overlapping the window (waiting until it has reported past
 * the window's end), else an assertion error. Returns the figures.
 */
async function judgeWindow(start: Ticks, end: Ticks, label: string, more = ''): Promise<string> {
  const runs = end.iterations - start.iterations;
  const overruns = end.overruns - start.overruns;
  const kept = runs / (runs + overruns);
  const figures = `${label}: witness kept ${runs} of ${runs + overruns} ticks (${(100 * kept).toFixed(2)} %)${more}`;
  assert.ok(runs + overruns >= WINDOW_TICKS, `${figures}: the window is too short`);
  if (kept >= KEPT_AT_LEAST) return figures;
  await waitFor(
    'the steadiness process to report past the window',
    () => heardUpTo > end.atNs + 50e6 || steadiness?.exitCode !== null,
    5_000,
  );
  const seen = stalls.filter((s) => s.at >= start.atNs && s.at - s.lateMs * 1e6 <= end.atNs);
  if (seen.length > 0) {
    throw new MachineStalled(
      `${figures}, and the machine stalled meanwhile (the steadiness process woke up to ${Math.max(...seen.map((s) => s.lateMs)).toFixed(0)} ms late, ${seen.length} times)`,
    );
  }
  assert.fail(`${figures}, though the machine was steady (no stall beyond 25 ms seen by the steadiness process)`);
}

/** The witness's ticks at its first loop run: the start of its window. */
async function windowStart(pt: PTimer, timer = 'witness'): Promise<Ticks> {
  await waitFor(`${timer} loops`, () => worker(pt, timer).iterations >= 1);
  return ticksOf(worker(pt, timer));
}

/**
 * Waits until the window holds WINDOW_TICKS ticks, then asserts the witness made >= 99 % of them
 * (see judgeWindow) and was neither restarted nor in error. Returns the figures (also printed as a diagnostic).
 */
async function assertWitnessKept(pt: PTimer, start: Ticks, label: string, timer = 'witness'): Promise<string> {
  const due = () => worker(pt, timer).iterations + worker(pt, timer).overruns - start.iterations - start.overruns;
  // A witness whose thread is held makes no runs and counts no overruns until it is let go: this wait fails then.
  await waitFor(`${WINDOW_TICKS} ticks of ${timer} (${label})`, () => due() >= WINDOW_TICKS, 20_000);
  const w = worker(pt, timer);
  const figures = await judgeWindow(
    start,
    ticksOf(w),
    label,
    `, lateness since run() p99 ${w.lateness.p99} us, max ${w.lateness.max} us`,
  );
  assert.equal(w.errors, 0, `${label}: the witness had no route errors`);
  assert.equal(w.state, 'running', `${label}: the witness runs`);
  assert.equal(w.restarts, 0, `${label}: the witness's thread was not restarted`);
  return figures;
}

scenario(
  'a loop route that throws on every run: counted, emitted, the loop goes on; the witness keeps its ticks',
  async (t) => {
    const { pt, routeErrors } = await create({
      ...FAST,
      timer: [{ name: 'bad', interval: '10ms', loop: 'THROW_LOOP' }, WITNESS],
    });
    await pt.run();
    const start = await windowStart(pt);
    await waitFor('50 route errors', () => routeErrors.length >= 50 && worker(pt, 'bad').errors >= 50);
    const bad = worker(pt, 'bad');
    assert.equal(bad.state, 'running', 'a loop route that throws does not stop the loop');
    assert.equal(bad.restarts, 0, 'nor its thread');
    assert.ok(
      Math.abs(bad.iterations - bad.errors) <= 1,
      `every run threw: ${bad.iterations} runs, ${bad.errors} errors`,
    );
    const first = routeErrors[0]!;
    assert.deepEqual(
      { timer: first.timer, worker: first.worker, route: first.route, message: first.message },
      { timer: 'bad', worker: 0, route: 'loop', message: 'fault: thrown in loop' },
    );
    assert.match(first.stack ?? '', /THROW_LOOP/);
    assert.ok(
      routeErrors.every((e) => e.timer === 'bad'),
      'only the bad timer erred',
    );
    t.diagnostic(await assertWitnessKept(pt, start, 'throws'));
    assert.ok(worker(pt, 'bad').errors > bad.errors, 'and it goes on running (and throwing)');
    await pt.stop();
  },
);

scenario(
  'a loop route that rejects on every run: counted, emitted, the loop goes on; the witness keeps its ticks',
  async (t) => {
    const { pt, routeErrors } = await create({
      ...FAST,
      timer: [{ name: 'bad', interval: '10ms', loop: 'REJECT_LOOP' }, WITNESS],
    });
    await pt.run();
    const start = await windowStart(pt);
    await waitFor('50 route errors', () => routeErrors.length >= 50 && worker(pt, 'bad').errors >= 50);
    const bad = worker(pt, 'bad');
    assert.equal(bad.state, 'running');
    assert.equal(bad.restarts, 0);
    assert.ok(
      Math.abs(bad.iterations - bad.errors) <= 1,
      `every run rejected: ${bad.iterations} runs, ${bad.errors} errors`,
    );
    const first = routeErrors[0]!;
    assert.deepEqual(
      { timer: first.timer, route: first.route, message: first.message },
      { timer: 'bad', route: 'loop', message: 'fault: rejected in loop' },
    );
    t.diagnostic(await assertWitnessKept(pt, start, 'rejects'));
    assert.ok(worker(pt, 'bad').errors > bad.errors, 'and it goes on running');
    await pt.stop();
  },
);

scenario(
  'a loop route whose promise never settles: listed stuck, commands time out saying why, force start recovers; a witness on the SAME thread keeps its ticks',
  async (t) => {
    const { pt, clear } = await create(
      {
        ...FAST,
        timer: [
          { name: 'bad', interval: '10ms', loop: 'NEVER_LOOP', thread: 'shared' },
          { ...WITNESS, thread: 'shared' },
        ],
      },
      routes,
      [FLAG.never],
    );
    await pt.run();
    const start = await windowStart(pt);
    assert.equal(worker(pt, 'bad').thread, worker(pt, 'witness').thread, 'they share a thread');
    await waitFor('bad stuck', () => worker(pt, 'bad').state === 'stuck');
    const bad = worker(pt, 'bad');
    assert.equal(bad.route, 'loop');
    assert.equal(bad.iterations, 0, 'its first run never finished');
    await assert.rejects(
      pt.pause('bad'),
      (e: Error & { code?: number }) =>
        e.code === 500 &&
        /worker 0 of "bad" has been in its loop route for \d+ ms; pause was not carried out/.test(e.message),
    );
    // The pending promise holds its own worker only: the witness beside it was not held.
    t.diagnostic(await assertWitnessKept(pt, start, 'never resolves (shared thread)'));
    assert.equal(worker(pt, 'bad').state, 'stuck', 'still stuck at the end of the window');
    clear(FLAG.never);
    const forced = await pt.start('bad', 0, { force: true });
    assert.deepEqual(forced.restarted, [{ timer: 'witness', worker: 0 }], 'the witness shared the thread and is named');
    assert.equal(forced.workers[0]!.state, 'running');
    assert.equal(worker(pt, 'bad').paused, false, 'the pause that timed out was withdrawn, not carried out later');
    await waitFor(
      'both loop again',
      () =>
        worker(pt, 'bad').iterations >= 3 && worker(pt, 'witness').iterations >= start.iterations + WINDOW_TICKS + 3,
    );
    await pt.stop();
  },
);

scenario(
  'a loop route that loops for ever (for(;;){}): listed stuck, commands time out saying why, force start recovers; the witness keeps its ticks',
  async (t) => {
    const { pt, clear } = await create(
      { ...FAST, timer: [{ name: 'bad', interval: '10ms', loop: 'SPIN_LOOP' }, WITNESS] },
      routes,
      [FLAG.spin],
    );
    await pt.run();
    const start = await windowStart(pt);
    await waitFor('bad stuck', () => worker(pt, 'bad').state === 'stuck');
    assert.equal(worker(pt, 'bad').route, 'loop');
    await assert.rejects(
      pt.end('bad'),
      (e: Error & { code?: number }) =>
        e.code === 500 &&
        /worker 0 of "bad" has been in its loop route for \d+ ms; end was not carried out \(use force/.test(e.message),
    );
    t.diagnostic(await assertWitnessKept(pt, start, 'loops for ever'));
    assert.equal(worker(pt, 'bad').state, 'stuck', 'still stuck at the end of the window');
    clear(FLAG.spin);
    const forced = await pt.start('bad', 0, { force: true });
    assert.deepEqual(forced.restarted, [], 'nothing else was on its thread');
    assert.equal(forced.workers[0]!.state, 'running');
    await waitFor('bad loops again', () => worker(pt, 'bad').iterations >= 3 && worker(pt, 'bad').state === 'running');
    assert.equal(worker(pt, 'witness').restarts, 0, 'the witness was not touched');
    await pt.stop();
  },
);

scenario(
  'a loop route that calls process.exit: restarted, then failed at restart_limit, refused but by start; start revives it; the witness keeps its ticks',
  async (t) => {
    const { pt, clear, exits } = await create(
      { ...FAST, timer: [{ name: 'bad', interval: '10ms', loop: 'EXIT_LOOP' }, WITNESS] },
      routes,
      [FLAG.exit],
    );
    await pt.run();
    const start = await windowStart(pt);
    await waitFor('bad failed', () => worker(pt, 'bad').state === 'failed');
    assert.equal(worker(pt, 'bad').restarts, 3, 'restart_limit 3/60s: three deaths');
    assert.deepEqual(
      exits.map((e) => ({ timer: e.timer, code: e.code, restartInMs: e.restartInMs })),
      [0, 100, 200].map((restartInMs) => ({ timer: 'bad', code: 7, restartInMs })),
      'one workerExit per death, with the exit code and a growing back-off',
    );
    assert.match(exits[0]!.error.message, /exited with code 7/);
    await assert.rejects(
      pt.continue('bad'),
      (e: Error & { code?: number }) =>
        e.code === 400 &&
        /has failed \(its thread died 3 times within 60 s/.test(e.message) &&
        /only start/.test(e.message),
    );
    t.diagnostic(await assertWitnessKept(pt, start, 'process.exit'));
    assert.equal(worker(pt, 'witness').restarts, 0, 'the witness, on its own thread, was not restarted');
    clear(FLAG.exit);
    const revived = await pt.start('bad');
    assert.equal(revived.workers[0]!.state, 'running');
    await waitFor('bad loops', () => worker(pt, 'bad').iterations >= 3);
    await pt.stop();
  },
);

scenario(
  'a loop route that runs out of memory (child process, 64 MB heaps): ERR_WORKER_OUT_OF_MEMORY, restarted, failed at restart_limit; start revives; the witness keeps its ticks',
  async (t) => {
    const child = spawn(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', oomHost], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const line = out.trim().split('\n').pop() ?? '';
    assert.equal(code, 0, `oom-host exited with ${code}:\n${out}\n${err.slice(-2000)}`);
    const r = JSON.parse(line) as {
      ok: boolean;
      error?: string;
      before: Ticks;
      after: Ticks;
      failed: WorkerInfo;
      revived: { state: string };
      witness: WorkerInfo;
      exits: Array<{ timer: string; code: number; errorCode: string; message: string; restartInMs: number }>;
      peakRssMb: number;
    };
    assert.ok(r.ok, `oom-host: ${r.error}`);
    assert.equal(r.failed.state, 'failed');
    assert.equal(r.failed.restarts, 2, 'restart_limit 2/60s: two deaths');
    assert.deepEqual(
      r.exits.map((e) => ({ timer: e.timer, errorCode: e.errorCode })),
      [0, 1].map(() => ({ timer: 'bad', errorCode: 'ERR_WORKER_OUT_OF_MEMORY' })),
    );
    assert.match(r.exits[0]!.message, /out of memory/);
    assert.equal(r.revived.state, 'running', 'start revived it (with the fault off)');
    const figures = await judgeWindow(
      r.before,
      r.after,
      'out of memory',
      `; peak RSS of the process ${r.peakRssMb.toFixed(0)} MB`,
    );
    assert.equal(r.witness.restarts, 0);
    assert.ok(r.peakRssMb < 600, `bounded: ${figures}`);
    t.diagnostic(figures);
  },
);

scenario(
  'a routes module that throws at import in worker threads: run() rejects naming the worker and the error, nothing runs; a witness in the same process keeps its ticks',
  async (t) => {
    const { pt: witnessPt } = await create({ timer: [WITNESS] });
    await witnessPt.run();
    const start = await windowStart(witnessPt);
    const { pt } = await create(
      { ...FAST, timer: [{ name: 'bad', interval: '10ms', loop: 'LOOP', thread: 'own', nworkers: 2 }] },
      importThrows,
    );
    const began = Date.now();
    await assert.rejects(pt.run(), (e: Error) =>
      /^ptimer could not start: thread own:bad\/\d failed to start: fault: the routes module cannot load in a worker thread \(worker \d of "bad"\)$/.test(
        e.message,
      ),
    );
    assert.ok(Date.now() - began < 5_000, `rejected at once, not after startup_timeout (${Date.now() - began} ms)`);
    assert.ok(
      pt.list()[0]!.workers.every((w) => w.iterations === 0 && w.restarts === 0),
      'no route ran and nothing was restarted',
    );
    await assert.rejects(pt.pause('bad'), /not running \(stopped\)/, 'a PTimer whose run() failed takes no commands');
    t.diagnostic(await assertWitnessKept(witnessPt, start, 'throws at import'));
    await witnessPt.stop();
  },
);

scenario(
  'a start route that fails every time: each start rejects with its message (500), errors counted, the worker ended; the witness keeps its ticks',
  async (t) => {
    const { pt, routeErrors } = await create({
      ...FAST,
      timer: [{ name: 'bad', interval: '10ms', start: 'THROW_START', loop: 'WITNESS' }, WITNESS],
    });
    await pt.run();
    const start = await windowStart(pt);
    await waitFor('the first start failed', () => worker(pt, 'bad').state === 'ended');
    assert.equal(worker(pt, 'bad').errors, 1, 'the failed start at run() is counted');
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        pt.start('bad'),
        (e: Error & { code?: number }) =>
          e.code === 500 && /the start route threw: fault: the start route failed/.test(e.message),
      );
      const bad = worker(pt, 'bad');
      assert.equal(bad.state, 'ended', 'a start that fails ends the worker, as -1 does, before its answer comes');
      assert.equal(bad.iterations, 0, 'it never looped');
      assert.equal(bad.errors, 2 + i);
    }
    await assert.rejects(
      pt.continue('bad'),
      (e: Error & { code?: number }) => e.code === 400 && /has ended; only start/.test(e.message),
    );
    await waitFor('four routeError events', () => routeErrors.length === 4);
    assert.ok(
      routeErrors.every(
        (e) => e.timer === 'bad' && e.route === 'start' && e.message === 'fault: the start route failed',
      ),
      JSON.stringify(routeErrors.map(({ timer, route, message }) => ({ timer, route, message }))),
    );
    t.diagnostic(await assertWitnessKept(pt, start, 'fails every start'));
    await pt.stop();
  },
);
