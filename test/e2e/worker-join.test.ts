/**
 * Workers of a timer join together (issue 17, item 2), with real threads under load: a synced
 * slice timer of 2 workers on two pool threads, each put on its offset (worker * 5) by its start
 * route, started 100 times (`start` on the timer, and a few fresh run()s) while `stress-ng --cpu 2`
 * keeps both cores busy. Every loop run must be on its worker's offset plus its tick: 0 shifted
 * offsets. Late joins are counted once each (ptimer.list's lateJoins) and printed, with how many
 * starts had both workers' first runs on the same grid point.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PTimer, type PTimerConfig } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const routes = new URL('../fixtures/runtime/join-routes.ts', import.meta.url);
const NSLICES = 10;
const config: PTimerConfig = {
  default_threads: 2,
  timer: [`name=join;type=3;interval=20ms;nworkers=2;ntasks=10;nslices=${NSLICES}`],
  start: ['timer=join;route=JOIN_START'],
  loop: ['timer=join;route=JOIN_LOOP'],
};

interface Run {
  worker: number;
  tick: number;
  slice: number;
  /** Which start (0-based) it followed. */
  start: number;
}

const stress =
  spawnSync('stress-ng', ['--version']).status === 0
    ? spawn('stress-ng', ['--cpu', '2', '--timeout', '120s', '--quiet'], { stdio: 'ignore' })
    : undefined;
after(() => stress?.kill('SIGKILL'));

test(
  '100 timer starts with two pool threads under stress-ng --cpu 2: 0 shifted slice offsets; late joins counted once',
  { timeout: 120_000 },
  async () => {
    assert.ok(stress, 'stress-ng must be installed: .ci/run installs it');
    const runs: Run[] = [];
    let current = 0;
    let lateJoins = 0;
    let sameFirstPoint = 0;
    const firstPoints: Array<[number, number]> = [];
    const FRESH_RUNS = 5; // run() of a new PTimer: threads coming up, the tick 0 join
    const TIMER_STARTS = 100 - FRESH_RUNS - 1; // `start` on the running timer (after its own run()): the rejoin
    const started = Date.now();

    /** Waits until both workers have run twice since start `n`, and notes their first points. */
    const settle = async (n: number) => {
      await waitFor(
        `two runs of each worker after start ${n}`,
        () => [0, 1].every((w) => runs.filter((r) => r.start === n && r.worker === w).length >= 2),
        20_000,
      );
      const first = [0, 1].map((w) => runs.find((r) => r.start === n && r.worker === w)!.tick) as [number, number];
      firstPoints.push(first);
      if (first[0] === first[1]) sameFirstPoint++;
    };
    const watch = (pt: PTimer) =>
      pt.on('message', (m) => {
        const data = m.data as { tick: number; slice: number };
        if (m.event === 'run') runs.push({ worker: m.worker, tick: data.tick, slice: data.slice, start: current });
      });

    for (let i = 0; i < FRESH_RUNS; i++) {
      const pt = await PTimer.create(config, { routes, log: { level: 'silent' } });
      watch(pt);
      current = i;
      await pt.run();
      try {
        const threads = new Set(pt.list()[0]!.workers.map((w) => w.thread));
        assert.equal(threads.size, 2, `the two workers are on two pool threads: ${[...threads].join(', ')}`);
        await settle(i);
      } finally {
        lateJoins += pt.list()[0]!.workers.reduce((s, w) => s + w.lateJoins, 0);
        await pt.stop({ timeoutMs: 5_000 });
      }
    }
    const pt = await PTimer.create(config, { routes, log: { level: 'silent' } });
    watch(pt);
    current = FRESH_RUNS;
    await pt.run();
    try {
      await settle(FRESH_RUNS);
      for (let i = FRESH_RUNS + 1; i <= FRESH_RUNS + TIMER_STARTS; i++) {
        // Runs already on their way belong to the start before; the next start's runs come after its answer.
        const result = await pt.start('join');
        assert.ok(
          result.workers.every((w) => w.outcome === 'done'),
          JSON.stringify(result),
        );
        current = i;
        await settle(i);
      }
      lateJoins += pt.list()[0]!.workers.reduce((s, w) => s + w.lateJoins, 0);
    } finally {
      await pt.stop({ timeoutMs: 5_000 });
    }

    const shifted = runs.filter((r) => r.slice !== (r.worker * 5 + r.tick) % NSLICES);
    console.log(
      `worker join: ${FRESH_RUNS + TIMER_STARTS + 1} starts (${FRESH_RUNS + 1} run(), ${TIMER_STARTS} start) under stress-ng --cpu 2 in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
        `${runs.length} loop runs, ${shifted.length} on a shifted slice; ${sameFirstPoint} of ${firstPoints.length} starts had both workers' first runs on the same grid point; ${lateJoins} late joins`,
    );
    assert.deepEqual(shifted.slice(0, 5), [], `${shifted.length} runs on a slice other than offset + tick`);
    assert.ok(runs.length >= 4 * firstPoints.length);
  },
);
