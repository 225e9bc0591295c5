/**
 * End to end: a real `ptimer run` child process on a free port and a temporary socket,
 * driven over HTTP, over the socket and through `ptimer rpc`, then stopped with SIGTERM.
 * Tests in this file run in order and share the one server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Server,
  freePort,
  httpRequest,
  rpcHttp,
  rpcSocket,
  runCli,
  waitFor,
  workersOf,
} from '../fixtures/cli/harness.js';
import { parsePrometheusText, sampleValue } from '../fixtures/cli/prom-text.js';

const CONFIG = 'test/fixtures/cli/e2e.config.ts';
let dir: string;
let port: number;
let socket: string;
let out: string;
let server: Server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ptimer-e2e-'));
  socket = join(dir, 'ptimer.sock');
  out = join(dir, 'end-routes.txt');
  port = await freePort();
  server = new Server([CONFIG, '--http', `127.0.0.1:${port}`, '--socket', socket, '--log-level', 'info'], {
    PTIMER_E2E_OUT: out,
  });
  await waitFor(
    'every worker looping',
    async () => {
      if (!server.running) throw new Error(`ptimer run exited: ${server.stderr}`);
      const list = await rpcHttp(port, 'ptimer.list');
      return list.result?.every(
        (t: any) => t.workers.length === t.nworkers && t.workers.every((w: any) => w.route === 'loop'),
      );
    },
    30_000,
  );
});

after(async () => {
  await server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const iterations = async (timer: string, worker: number) => (await workersOf(port, timer))[worker].iterations as number;

test('logs are JSON lines and say where the control interface is', () => {
  const ready = server.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('control interface ready'));
  assert.ok(ready, server.stdout);
  assert.equal(ready.http, `http://127.0.0.1:${port}/RPC`);
  assert.equal(ready.metrics, `http://127.0.0.1:${port}/metrics`);
  assert.equal(ready.socket, socket);
  assert.equal(statSync(socket).mode & 0o777, 0o600);
});

test('HTTP: ptimer.list has every timer, worker and counter', async () => {
  const list = (await rpcHttp(port, 'ptimer.list')).result;
  assert.deepEqual(
    list.map((t: any) => [t.name, t.type, t.interval, t.nworkers, t.start, t.loop, t.end]),
    [
      ['fast', 1, '20ms', 2, 'FAST_START', 'FAST_LOOP', 'FAST_END'],
      ['lazy', 0, '200ms', 1, 'LAZY_START', 'LAZY_LOOP', null],
    ],
  );
  const w = list[0].workers[1];
  for (const key of [
    'worker',
    'pid',
    'ntasks',
    'tasks',
    'nslices',
    'slice',
    'paused',
    'route',
    'iterations',
    'overruns',
    'errors',
    'restarts',
    'lateness',
  ]) {
    assert.ok(key in w, key);
  }
  assert.equal(w.worker, 1);
  assert.equal(w.pid, server.child.pid);
});

test('HTTP: pause and continue one worker; the others go on', async () => {
  const pause = await rpcHttp(port, 'ptimer.pause', ['fast', 1]);
  assert.deepEqual(pause.result, {
    timer: 'fast',
    command: 'pause',
    worker: 1,
    force: false,
    workers: [{ worker: 1, outcome: 'done', state: 'paused', route: 'loop', paused: true }],
  });
  const [w0, w1] = await workersOf(port, 'fast');
  assert.equal(w0.paused, false);
  assert.equal(w1.paused, true);
  // Worker 0 keeps looping while worker 1 stands still.
  const frozen = w1.iterations;
  await waitFor('worker 0 to loop 5 more times', async () => (await iterations('fast', 0)) >= w0.iterations + 5);
  assert.equal(await iterations('fast', 1), frozen);

  const cont = await rpcHttp(port, 'ptimer.continue', ['fast', 1]);
  assert.deepEqual(cont.result.workers, [
    { worker: 1, outcome: 'done', state: 'running', route: 'loop', paused: false },
  ]);
  await waitFor('worker 1 to loop again', async () => (await iterations('fast', 1)) > frozen + 2);
});

test('HTTP: end runs the end route, continue on an ended worker is refused, start brings it back, loop', async () => {
  const end = await rpcHttp(port, 'ptimer.end', { timer: 'fast', worker: 0 });
  assert.deepEqual(end.result.workers, [{ worker: 0, outcome: 'done', state: 'ended', route: 'none', paused: true }]);
  assert.match(readFileSync(out, 'utf8'), /^end fast 0 loops=\d+$/m);

  for (const method of ['ptimer.continue', 'ptimer.loop', 'ptimer.end']) {
    const refused = await rpcHttp(port, method, ['fast', 0]);
    assert.equal(refused.error?.code, 400, method);
    assert.match(refused.error.message, /start/, method);
  }
  const start = await rpcHttp(port, 'ptimer.start', ['fast', 0]);
  assert.equal(start.result.workers[0].paused, false);
  await waitFor('worker 0 looping after start', async () => (await workersOf(port, 'fast'))[0].route === 'loop');

  const loop = await rpcHttp(port, 'ptimer.loop', ['fast']);
  assert.deepEqual(
    loop.result.workers.map((w: any) => [w.worker, w.paused]),
    [
      [0, false],
      [1, false],
    ],
  );
  const pauseAll = await rpcHttp(port, 'ptimer.pause', ['fast']);
  assert.deepEqual(
    pauseAll.result.workers.map((w: any) => w.paused),
    [true, true],
  );
  const startAll = await rpcHttp(port, 'ptimer.start', ['fast']);
  assert.deepEqual(
    startAll.result.workers.map((w: any) => w.paused),
    [false, false],
  );
});

test('socket: every method, state checked through ptimer.list', async () => {
  const list = await rpcSocket(socket, 'ptimer.list');
  assert.deepEqual(
    list.result.map((t: any) => t.name),
    ['fast', 'lazy'],
  );
  assert.equal((await rpcSocket(socket, 'ptimer.pause', ['lazy'])).result.workers[0].paused, true);
  assert.equal((await workersOf(port, 'lazy'))[0].paused, true);
  assert.equal((await rpcSocket(socket, 'ptimer.continue', ['lazy', 0])).result.workers[0].paused, false);
  assert.equal((await workersOf(port, 'lazy'))[0].paused, false);
  assert.equal((await rpcSocket(socket, 'ptimer.end', ['fast', 1])).result.workers[0].route, 'none');
  assert.equal((await workersOf(port, 'fast'))[1].route, 'none');
  assert.equal((await rpcSocket(socket, 'ptimer.start', ['fast', 1])).result.workers[0].paused, false);
  await waitFor('fast 1 looping', async () => (await workersOf(port, 'fast'))[1].route === 'loop');
  assert.equal((await rpcSocket(socket, 'ptimer.loop', ['fast', 1])).result.workers[0].route, 'loop');
  assert.ok((await rpcSocket(socket, 'system.listMethods')).result.includes('ptimer.loop'));
  assert.match((await rpcSocket(socket, 'system.methodHelp', ['ptimer.end'])).result, /^ptimer\.end/);
  assert.equal((await rpcSocket(socket, 'ptimer.pause', ['nope'])).error?.code, 404);
});

test('every error class is answered, and the server answers afterwards', async () => {
  const body = (text: string | Buffer) => httpRequest(port, { body: text });
  const parse = await body('{"jsonrpc":"2.0","method":"ptimer.list",');
  assert.equal(JSON.parse(parse.body).error.code, -32700);
  assert.equal(JSON.parse((await body('[1]')).body)[0].error.code, -32600);
  assert.equal((await rpcHttp(port, 'ptimer.nosuch')).error?.code, -32601);
  assert.equal((await rpcHttp(port, 'ptimer.pause', ['nope'])).error?.code, 404);
  const range = await rpcHttp(port, 'ptimer.pause', ['fast', 2]);
  assert.equal(range.error?.code, 400);
  assert.match(range.error.message, /worker 2 is out of range: timer "fast" has 2 workers \(0-1\)/);
  assert.equal((await rpcHttp(port, 'ptimer.pause', ['fast', -1])).error?.code, 400);
  assert.equal((await rpcHttp(port, 'ptimer.pause', ['fast', 'one'])).error?.code, 400);
  assert.equal((await rpcHttp(port, 'ptimer.pause', [7])).error?.code, 400);
  assert.equal((await rpcHttp(port, 'ptimer.pause', 'fast')).error?.code, -32600);
  const big = await body(
    JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.list', id: 1, pad: 'x'.repeat(1100 * 1024) }),
  );
  assert.equal(big.status, 413);
  assert.equal(JSON.parse(big.body).error.code, -32600);
  const batch = JSON.parse(
    (
      await body(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'ptimer.list', id: 'a' },
          { jsonrpc: '2.0', method: 'x', id: 'b' },
        ]),
      )
    ).body,
  );
  assert.deepEqual(
    batch.map((r: any) => r.id),
    ['a', 'b'],
  );
  // Still answering, over both transports, and nothing was paused by the errors.
  assert.ok((await rpcHttp(port, 'ptimer.list')).result);
  assert.ok((await rpcSocket(socket, 'ptimer.list')).result);
  assert.ok(server.running);
});

test('a slow ptimer.start does not hold up other requests', async () => {
  const t0 = Date.now();
  let settled = false;
  const slow = rpcHttp(port, 'ptimer.start', ['lazy']).finally(() => (settled = true)); // its start route takes 1.5 s
  // While the start route runs, both transports answer.
  await waitFor('lazy in its start route', async () => (await workersOf(port, 'lazy'))[0].route === 'start', 5_000, 10);
  const viaSocket = await rpcSocket(socket, 'ptimer.list');
  assert.ok(viaSocket.result);
  assert.equal(settled, false, `the start answered before the list did (${Date.now() - t0} ms)`);
  const done = await slow;
  assert.ok(Date.now() - t0 >= 1400, 'start resolved only after the start route ran');
  assert.equal(done.result.workers[0].paused, false);
});

test('/metrics parses as Prometheus text and its counters move', async () => {
  const scrape = async () => {
    const res = await httpRequest(port, { method: 'GET', path: '/metrics' });
    assert.equal(res.status, 200);
    return parsePrometheusText(res.body);
  };
  const first = await scrape();
  const before = sampleValue(first, 'ptimer_loop_iterations_total', { timer: 'fast', worker: '0' })!;
  assert.ok(before > 0);
  for (const name of [
    'ptimer_overruns_total',
    'ptimer_route_errors_total',
    'ptimer_restarts_total',
    'ptimer_worker_paused',
    'ptimer_loop_lateness_max_seconds',
  ]) {
    assert.notEqual(sampleValue(first, name, { timer: 'fast', worker: '1' }), undefined, name);
  }
  const p99 = sampleValue(first, 'ptimer_loop_lateness_seconds', { timer: 'fast', worker: '0', quantile: '0.99' })!;
  assert.ok(p99 >= 0 && p99 < 1, String(p99));
  await waitFor(
    'iterations to grow',
    async () =>
      sampleValue(await scrape(), 'ptimer_loop_iterations_total', { timer: 'fast', worker: '0' })! > before + 3,
  );
  await rpcHttp(port, 'ptimer.pause', ['lazy']);
  assert.equal(sampleValue(await scrape(), 'ptimer_worker_paused', { timer: 'lazy', worker: '0' }), 1);
  await rpcHttp(port, 'ptimer.continue', ['lazy']);
});

test('ptimer rpc: JSON result, --table, errors and exit codes, over HTTP and the socket', async () => {
  const url = `http://127.0.0.1:${port}`;
  const list = await runCli(['rpc', 'ptimer.list', '--url', url]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).map((t: any) => t.name),
    ['fast', 'lazy'],
  );

  const table = await runCli(['rpc', 'ptimer.list', '--table', '--url', url]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^TIMER\s+WORKER\s+STATE\s+THREAD\s+ROUTE\s+NTASKS\s+TASKS\s+SLICE\s+ITERATIONS\s+OVERRUNS\s+ERRORS\s+LATE p50\s+p99\s+max$/,
  );
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /^fast\s+0\s+running\s+pool-\d\s+loop\s+0\s+0\s+0\/1\s+\d+\s+\d+\s+\d+\s+\S+(us|ms)/);

  const pause = await runCli(['rpc', 'ptimer.pause', 'fast', '1', '--socket', socket]);
  assert.equal(pause.code, 0, pause.stderr);
  assert.deepEqual(JSON.parse(pause.stdout).workers, [
    { worker: 1, outcome: 'done', state: 'paused', route: 'loop', paused: true },
  ]); // "1" went as a number
  assert.equal((await workersOf(port, 'fast'))[1].paused, true);
  const cont = await runCli(['rpc', '--url', url, 'ptimer.continue', 'fast', '1']);
  assert.equal(cont.code, 0, cont.stderr);
  assert.equal((await workersOf(port, 'fast'))[1].paused, false);

  const unknown = await runCli(['rpc', 'ptimer.pause', 'nope', '--url', url]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^ptimer rpc: error 404: ptimer\.pause: unknown timer "nope"/);
  const range = await runCli(['rpc', 'ptimer.pause', 'fast', '9', '--url', url]);
  assert.equal(range.code, 1);
  assert.match(range.stderr, /error 400: .*out of range/);
  const method = await runCli(['rpc', 'ptimer.nope', '--url', url]);
  assert.equal(method.code, 1);
  assert.match(method.stderr, /error -32601/);

  const nobody = await runCli(['rpc', 'ptimer.list', '--url', `http://127.0.0.1:${await freePort()}`]);
  assert.equal(nobody.code, 1);
  assert.match(
    nobody.stderr,
    /^ptimer rpc: no ptimer server answers at http:\/\/127\.0\.0\.1:\d+\/RPC \(connection refused\)/,
  );
  const noSocket = await runCli(['rpc', 'ptimer.list', '--socket', join(dir, 'nothing.sock')]);
  assert.equal(noSocket.code, 1);
  assert.match(noSocket.stderr, /no such socket file/);
});

test('SIGTERM: every worker runs its end route, the socket is removed, exit 0', async () => {
  rmSync(out, { force: true });
  await waitFor('all fast workers looping', async () =>
    (await workersOf(port, 'fast')).every((w) => w.route === 'loop' && !w.paused),
  );
  server.child.kill('SIGTERM');
  const { code, signal } = await server.waitForExit();
  assert.equal(signal, null);
  assert.equal(code, 0, server.stderr);
  const ends = readFileSync(out, 'utf8').trim().split('\n').sort();
  assert.equal(ends.length, 2, ends.join('\n'));
  assert.match(ends[0]!, /^end fast 0 loops=\d+$/);
  assert.match(ends[1]!, /^end fast 1 loops=\d+$/);
  assert.equal(existsSync(socket), false);
  assert.ok(server.logs().some((l) => l.signal === 'SIGTERM'));
  assert.equal(server.stderr, '');
});
