/**
 * examples/hot-reload end to end. The walkthrough (main.ts without arguments) checks its own
 * steps and exits 0 when each held. Then the operator's way: main.ts serving a task file, driven
 * with the real `ptimer rpc --url ... ptimer.start t1` while the file is written, broken and
 * removed: a first start without a list ends the worker and says why; a good file reloads (ntasks
 * follows it); a broken or missing file makes `ptimer.start` exit 1 naming the error and the
 * version still served, and t1 goes on running with the last good list.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, runCli, waitFor, workersOf } from '../fixtures/cli/harness.js';

const MAIN = 'examples/hot-reload/main.ts';
const dir = mkdtempSync(join(tmpdir(), 'ptimer-hot-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function host(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

const taskFile = (version: number, n: number) =>
  JSON.stringify({ version, tasks: Array.from({ length: n }, (_, i) => `check-${version}-${i}`) });

test('the walkthrough: reloaded, failure reported with the last list kept, reloaded again', async () => {
  const h = host([]);
  const timeout = setTimeout(() => h.child.kill('SIGKILL'), 30_000);
  const code = await h.exited;
  clearTimeout(timeout);
  assert.equal(code, 0, h.out());
  assert.match(h.out(), /t1 serves version 1: 20 tasks/);
  assert.match(h.out(), /t1 serves version 2: 35 tasks/);
  assert.match(
    h.out(),
    /-> error 500: .*the task list was not reloaded: GET .* HTTP 503 \(down for maintenance\); t1 keeps serving version 2 \(35 tasks\)/,
  );
  assert.match(h.out(), /t1 goes on with version 2: \d+ tasks handled since the failure/);
  assert.match(h.out(), /t1 serves version 3: 10 tasks/);
  assert.match(h.out(), /every step held/);
});

test('ptimer rpc ptimer.start t1 against a task file: reloads, reports failures, keeps the last good list', async () => {
  const file = join(dir, 'tasks.json');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/RPC`;
  const h = host(['--tasks', file, '--http', `127.0.0.1:${port}`]);
  const rpc = (...args: string[]) => runCli(['rpc', '--url', url, ...args]);
  const t1 = async () => (await workersOf(port, 't1'))[0];
  try {
    // No file yet: the first start has nothing to serve, so the worker ends, saying why.
    const ended = await waitFor('t1 ended after a first start without a list', async () => {
      if (h.child.exitCode !== null) throw new Error(`the host exited: ${h.out()}`);
      const w = await t1();
      return w.state === 'ended' && w.errors === 1 && w;
    });
    assert.equal(ended.route, 'none');
    assert.match(
      h.out(),
      /routeError from t1's start route: t1 has no task list: GET .* HTTP 503 \(cannot read .*tasks\.json: ENOENT\)/,
    );

    let r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /the start route threw: t1 has no task list: GET .* HTTP 503 \(cannot read .*ENOENT\)/);
    assert.equal((await t1()).state, 'ended');

    writeFileSync(file, taskFile(1, 20));
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).workers[0].state, 'running');
    assert.equal((await t1()).ntasks, 20);

    writeFileSync(file, taskFile(2, 35));
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t1()).ntasks, 35);

    writeFileSync(file, '{"version": 3, "tasks": ["a", "b",]}');
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /the task list was not reloaded: GET .*: the answer is not valid JSON \(.*\); t1 keeps serving version 2 \(35 tasks\)/,
    );
    let w = await t1();
    assert.deepEqual(
      [w.state, w.ntasks, w.errors],
      ['running', 35, 2],
      'the two starts without a list threw; a reload that kept the list did not',
    );
    const iterations = w.iterations;
    await waitFor('t1 still looping on version 2', async () => (await t1()).iterations >= iterations + 3);

    writeFileSync(file, JSON.stringify({ version: 4, tasks: [42] }));
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tasks\[0\] must be a string.*keeps serving version 2 \(35 tasks\)/);

    rmSync(file);
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 503 \(cannot read .*ENOENT\); t1 keeps serving version 2 \(35 tasks\)/);
    w = await t1();
    assert.deepEqual([w.state, w.ntasks], ['running', 35]);

    writeFileSync(file, taskFile(5, 7));
    r = await rpc('ptimer.start', 't1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t1()).ntasks, 7);
    assert.match(h.out(), /tasks-failed/);
  } finally {
    h.child.kill('SIGINT');
    const timeout = setTimeout(() => h.child.kill('SIGKILL'), 15_000);
    const code = await h.exited;
    clearTimeout(timeout);
    assert.equal(code, 0, h.out());
  }
});
