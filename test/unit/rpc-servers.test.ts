import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync, linkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startHttpServer, parseHostPort, isLoopbackHost } from '../../src/rpc/http-server.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { createMetrics } from '../../src/rpc/metrics.js';
import { callRpc, RpcCallError, RpcTransportError, rpcUrl } from '../../src/rpc/client.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { parsePrometheusText, sampleValue } from '../fixtures/cli/prom-text.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-rpc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
function http(
  port: number,
  options: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string> },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/RPC',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
const rpcBody = (method: string, params?: unknown, id: string | number = 1) =>
  JSON.stringify({ jsonrpc: '2.0', method, params, id });

async function httpServer(token?: string, host = '127.0.0.1') {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const dispatcher = new RpcDispatcher(control);
  const server = await startHttpServer({ host, port: 0, dispatcher, metrics: createMetrics(control), token });
  return { control, server };
}

test('parseHostPort and isLoopbackHost', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:8711'), { host: '127.0.0.1', port: 8711 });
  assert.deepEqual(parseHostPort(':9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseHostPort('9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseHostPort('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
  assert.throws(() => parseHostPort('127.0.0.1'), /not HOST:PORT/);
  assert.throws(() => parseHostPort('h:70000'), /out of range/);
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.0.2.1', 'example.com', '']) assert.ok(!isLoopbackHost(h), h);
});

test('HTTP: POST /RPC answers, the state changes, errors keep the server going', async () => {
  const { server, control } = await httpServer();
  try {
    const list = await http(server.port, { body: rpcBody('ptimer.list') });
    assert.equal(list.status, 200);
    assert.match(String(list.headers['content-type']), /application\/json/);
    assert.equal(JSON.parse(list.body).result[0].name, 'queue');

    const pause = JSON.parse((await http(server.port, { body: rpcBody('ptimer.pause', ['queue', 1]) })).body);
    assert.deepEqual(pause.result.workers, [
      { worker: 1, outcome: 'done', state: 'paused', route: 'loop', paused: true },
    ]);
    assert.equal(control.list()[0]!.workers[1]!.paused, true);

    assert.equal(JSON.parse((await http(server.port, { body: '{not json' })).body).error.code, -32700);
    assert.equal(JSON.parse((await http(server.port, { body: rpcBody('nope') })).body).error.code, -32601);
    assert.equal(
      JSON.parse((await http(server.port, { body: rpcBody('ptimer.pause', ['queue', 2]) })).body).error.code,
      400,
    );
    assert.equal(JSON.parse((await http(server.port, { body: rpcBody('ptimer.pause', ['x']) })).body).error.code, 404);

    const notification = await http(server.port, {
      body: JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.continue', params: ['queue'] }),
    });
    assert.equal(notification.status, 204);

    assert.equal((await http(server.port, { method: 'GET' })).status, 405);
    assert.equal((await http(server.port, { path: '/nothing', method: 'GET' })).status, 404);
    assert.equal((await http(server.port, { body: rpcBody('ptimer.list') })).status, 200);
  } finally {
    await server.close();
  }
});

test('HTTP: a body over 1 MiB is refused with 413 and a JSON-RPC error, and the server goes on', async () => {
  const { server } = await httpServer();
  try {
    const big = JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.list', id: 1, pad: 'x'.repeat(1024 * 1024 + 10) });
    const res = await http(server.port, { body: big });
    assert.equal(res.status, 413);
    const body = JSON.parse(res.body);
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, /larger than 1048576 bytes \(1 MiB\)/);
    // Chunked, with no Content-Length to go by.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/RPC' }, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(100 * 1024, 0x20));
      req.end();
    });
    assert.equal(chunked, 413);
    const ok = await http(server.port, { body: rpcBody('ptimer.list') });
    assert.equal(ok.status, 200);
  } finally {
    await server.close();
  }
});

test('HTTP: a token is required on a non-loopback address, and checked when set', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  await assert.rejects(
    startHttpServer({ host: '0.0.0.0', port: 0, dispatcher: new RpcDispatcher(control) }),
    /refusing to serve the control interface on 0\.0\.0\.0, which is not a loopback address, without a token/,
  );
  // A token there must be at least 16 characters; loopback takes any.
  await assert.rejects(
    startHttpServer({ host: '0.0.0.0', port: 0, dispatcher: new RpcDispatcher(control), token: 'a' }),
    /on 0\.0\.0\.0, which is not a loopback address, with a token of 1 character: a token there must be at least 16 characters/,
  );
  await assert.rejects(
    startHttpServer({ host: '::', port: 0, dispatcher: new RpcDispatcher(control), token: '0123456789abcde' }),
    /with a token of 15 characters: a token there must be at least 16 characters/,
  );
  const short = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher: new RpcDispatcher(control),
    token: 'a',
  });
  await short.close();
  const { server } = await httpServer('s3cret-0123456789', '0.0.0.0');
  try {
    const none = await http(server.port, { body: rpcBody('ptimer.list') });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    assert.match(JSON.parse(none.body).error.message, /bearer token is required/);
    const wrong = await http(server.port, { body: rpcBody('ptimer.list'), headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const metrics = await http(server.port, { method: 'GET', path: '/metrics' });
    assert.equal(metrics.status, 401);
    const ok = await http(server.port, {
      body: rpcBody('ptimer.list'),
      headers: { Authorization: 'Bearer s3cret-0123456789' },
    });
    assert.equal(ok.status, 200);
    const viaClient = await callRpc(
      { url: `http://127.0.0.1:${server.port}`, token: 's3cret-0123456789' },
      'ptimer.list',
    );
    assert.ok(Array.isArray(viaClient));
    await assert.rejects(
      callRpc({ url: `http://127.0.0.1:${server.port}` }, 'ptimer.list'),
      (err: unknown) => err instanceof RpcCallError && err.code === 401,
    );
  } finally {
    await server.close();
  }
});

test('HTTP: browsers are kept out (Origin header, foreign Host)', async () => {
  const { server } = await httpServer();
  try {
    const origin = await http(server.port, {
      body: rpcBody('ptimer.pause', ['queue']),
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(origin.status, 403);
    const rebinding = await http(server.port, {
      body: rpcBody('ptimer.pause', ['queue']),
      headers: { Host: `evil.example:${server.port}` },
    });
    assert.equal(rebinding.status, 403);
    const local = await http(server.port, {
      body: rpcBody('ptimer.list'),
      headers: { Host: `localhost:${server.port}` },
    });
    assert.equal(local.status, 200);
  } finally {
    await server.close();
  }
});

test('HTTP: a slow command does not block other requests', async () => {
  const { server, control } = await httpServer();
  try {
    control.delayMs = 600;
    let settled = false;
    const slow = http(server.port, { body: rpcBody('ptimer.start', ['queue']) }).finally(() => (settled = true));
    await waitUntil(() => control.calls.length === 1); // the start is under way
    const list = await http(server.port, { body: rpcBody('ptimer.list') });
    assert.equal(list.status, 200);
    assert.equal(settled, false, 'list answered while start was still running');
    assert.equal(JSON.parse((await slow).body).result.command, 'start');
  } finally {
    await server.close();
  }
});

test('/metrics: Prometheus text from a fresh list() each scrape; counters move', async () => {
  const { server, control } = await httpServer();
  try {
    const res = await http(server.port, { method: 'GET', path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const exp = parsePrometheusText(res.body);
    assert.equal(exp.types.get('ptimer_loop_iterations_total'), 'counter');
    assert.equal(exp.types.get('ptimer_overruns_total'), 'counter');
    assert.equal(exp.types.get('ptimer_route_errors_total'), 'counter');
    assert.equal(exp.types.get('ptimer_restarts_total'), 'counter');
    assert.equal(exp.types.get('ptimer_worker_paused'), 'gauge');
    assert.equal(exp.types.get('ptimer_loop_lateness_seconds'), 'summary');
    assert.equal(exp.types.get('ptimer_loop_lateness_max_seconds'), 'gauge');
    assert.match(exp.help.get('ptimer_loop_lateness_seconds')!, /quantiles 0.5 and 0.99/);
    assert.equal(sampleValue(exp, 'ptimer_loop_iterations_total', { timer: 'queue', worker: '1' }), 20);
    assert.equal(
      sampleValue(exp, 'ptimer_loop_lateness_seconds', { timer: 'queue', worker: '0', quantile: '0.5' }),
      52e-6,
    );
    assert.equal(
      sampleValue(exp, 'ptimer_loop_lateness_seconds', { timer: 'queue', worker: '0', quantile: '0.99' }),
      140e-6,
    );
    assert.equal(sampleValue(exp, 'ptimer_loop_lateness_seconds_count', { timer: 'queue', worker: '0' }), 10);
    assert.equal(sampleValue(exp, 'ptimer_loop_lateness_seconds_sum', { timer: 'queue', worker: '0' }), 600e-6);
    assert.equal(sampleValue(exp, 'ptimer_loop_lateness_max_seconds', { timer: 'queue', worker: '0' }), 1830e-6);
    assert.equal(sampleValue(exp, 'ptimer_worker_paused', { timer: 'queue', worker: '0' }), 0);
    assert.equal(sampleValue(exp, 'ptimer_worker_route', { timer: 'queue', worker: '0', route: 'loop' }), 1);
    assert.ok(exp.samples.some((s) => s.name === 'ptimer_process_cpu_user_seconds_total'));

    control.timers[0]!.workers[1]!.iterations = 25;
    control.timers[0]!.workers[1]!.restarts = 1;
    await control.pause('queue', 0);
    const again = parsePrometheusText((await http(server.port, { method: 'GET', path: '/metrics' })).body);
    assert.equal(sampleValue(again, 'ptimer_loop_iterations_total', { timer: 'queue', worker: '1' }), 25);
    assert.equal(sampleValue(again, 'ptimer_restarts_total', { timer: 'queue', worker: '1' }), 1);
    assert.equal(sampleValue(again, 'ptimer_worker_paused', { timer: 'queue', worker: '0' }), 1);
  } finally {
    await server.close();
  }
});

test('socket: newline-delimited requests, mode 0600, errors answered, long lines refused, removed on close', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const path = join(dir, 'a.sock');
  const server = await startSocketServer({ path, dispatcher: new RpcDispatcher(control) });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  try {
    const lines = await socketExchange(
      path,
      [
        rpcBody('ptimer.pause', ['queue', 0], 1),
        '{oops',
        rpcBody('ptimer.pause', ['queue', 5], 3),
        'x'.repeat(1024 * 1024 + 1),
        JSON.stringify([
          { jsonrpc: '2.0', method: 'ptimer.list', id: 5 },
          { jsonrpc: '2.0', method: 'nope', id: 6 },
        ]),
        rpcBody('ptimer.list', undefined, 7),
      ],
      5,
    );
    const byId = new Map<unknown, { result?: unknown; error?: { code: number; message: string } }>();
    const batches: unknown[] = [];
    const anonymous: Array<{ error: { code: number; message: string } }> = [];
    for (const l of lines) {
      const v = JSON.parse(l);
      if (Array.isArray(v)) batches.push(v);
      else if (v.id === null) anonymous.push(v);
      else byId.set(v.id, v);
    }
    assert.deepEqual((byId.get(1)!.result as { workers: unknown }).workers, [
      { worker: 0, outcome: 'done', state: 'paused', route: 'loop', paused: true },
    ]);
    assert.equal(byId.get(3)!.error!.code, 400);
    assert.equal((byId.get(7)!.result as unknown[]).length, 1);
    assert.equal(batches.length, 1);
    assert.deepEqual(anonymous.map((a) => a.error.code).sort(), [-32700, -32600].sort());
    assert.ok(anonymous.some((a) => /larger than 1048576 bytes/.test(a.error.message)));
    assert.equal(control.list()[0]!.workers[0]!.paused, true);

    // A request without a final newline, then end: still answered.
    const viaClient = await callRpc({ socket: path }, 'ptimer.continue', ['queue', 0]);
    assert.equal((viaClient as { command: string }).command, 'continue');
  } finally {
    await server.close();
  }
  assert.equal(existsSync(path), false);
});

test('socket: a slow command does not hold up the next line', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  const path = join(dir, 'slow.sock');
  const server = await startSocketServer({ path, dispatcher: new RpcDispatcher(control) });
  try {
    control.delayMs = 500;
    const order: string[] = [];
    const lines = await socketExchange(
      path,
      [rpcBody('ptimer.start', ['queue'], 'slow'), rpcBody('ptimer.list', undefined, 'fast')],
      2,
      (l) => order.push(JSON.parse(l).id),
    );
    assert.equal(lines.length, 2);
    assert.deepEqual(order, ['fast', 'slow']);
  } finally {
    await server.close();
  }
});

test('socket: a stale socket file is replaced; a live one, or a file that is not a socket, is not', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  const dispatcher = new RpcDispatcher(control);
  const path = join(dir, 'stale.sock');
  // A socket file nobody listens on, as a killed process leaves behind. A server that closes removes its
  // file, so keep a second name (a hard link) for the socket's inode, close, and put it back.
  const leftover = createServer();
  await new Promise<void>((r) => leftover.listen(path, r));
  const staleCopy = join(dir, 'stale-copy.sock');
  linkSync(path, staleCopy);
  await new Promise<void>((r) => leftover.close(() => r()));
  renameSync(staleCopy, path);
  assert.ok(statSync(path).isSocket());
  let removed = '';
  const server = await startSocketServer({ path, dispatcher, onStaleSocket: (p) => (removed = p) });
  assert.equal(removed, path);
  await assert.rejects(startSocketServer({ path, dispatcher }), /another server is answering on/);
  await server.close();

  const plain = join(dir, 'plain.sock');
  writeFileSync(plain, 'not a socket');
  await assert.rejects(startSocketServer({ path: plain, dispatcher }), /exists and is not a socket/);
  assert.ok(existsSync(plain));
});

test('client: clear messages when nothing answers', async () => {
  await assert.rejects(
    callRpc({ socket: join(dir, 'none.sock') }, 'ptimer.list'),
    (err: unknown) => err instanceof RpcTransportError && /no such socket file/.test(err.message),
  );
  const port = await freePort();
  await assert.rejects(
    callRpc({ url: `http://127.0.0.1:${port}` }, 'ptimer.list'),
    /no ptimer server answers at http:\/\/127\.0\.0\.1:\d+\/RPC \(connection refused\)/,
  );
  assert.equal(rpcUrl('127.0.0.1:9').href, 'http://127.0.0.1:9/RPC');
  assert.equal(rpcUrl('http://h:9/custom').href, 'http://h:9/custom');
});

function socketExchange(
  path: string,
  lines: string[],
  expect: number,
  onLine?: (line: string) => void,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const got: string[] = [];
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length} of ${expect} answers: ${got.join('\n')}`)),
      5000,
    );
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        got.push(line);
        onLine?.(line);
        if (got.length === expect) {
          clearTimeout(timer);
          socket.end();
          resolve(got);
        }
      }
    });
    socket.on('error', reject);
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
