/**
 * connect(): the typed RPC client against a real dispatcher behind the HTTP server and the
 * Unix socket server (loopback, a fake control without threads).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RpcCallError, RpcTransportError, type PTimerClient } from '../../src/client/index.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startHttpServer } from '../../src/rpc/http-server.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { createMetrics } from '../../src/rpc/metrics.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { freePort } from '../fixtures/cli/harness.js';

async function servers(t: { after(fn: () => Promise<void> | void): void }, token?: string) {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const dispatcher = new RpcDispatcher(control);
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher,
    metrics: createMetrics(control),
    token,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-client-'));
  const socket = await startSocketServer({ path: join(dir, 'ptimer.sock'), dispatcher });
  t.after(async () => {
    await Promise.all([http.close(100), socket.close(100)]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { control, http, socket };
}

async function exercise(client: PTimerClient, control: FakeControl): Promise<void> {
  const timers = await client.list();
  assert.equal(timers[0]!.name, 'queue');
  assert.equal(timers[0]!.workers.length, 2);
  const paused = await client.pause('queue', 1);
  assert.equal(paused.timer, 'queue');
  assert.equal(paused.worker, 1);
  assert.equal(paused.workers[0]!.paused, true);
  await client.continue('queue');
  await client.loop('queue', 0);
  await client.end('queue', 0);
  await client.start('queue');
  assert.deepEqual(
    control.calls.map((c) => [c.command, c.worker]),
    [
      ['pause', 1],
      ['continue', undefined],
      ['loop', 0],
      ['end', 0],
      ['start', undefined],
    ],
  );
  assert.ok((await client.listMethods()).includes('ptimer.pause'));
  assert.match(await client.methodHelp('ptimer.end'), /end route/);
  assert.deepEqual((await client.call('ptimer.list'))[0]!.name, 'queue');
}

test('over HTTP: every method, typed results, and the server it names', async (t) => {
  const { control, http } = await servers(t);
  const client = connect({ url: http.url });
  assert.equal(client.server, http.url);
  await exercise(client, control);
  await client.close();
});

test('over the Unix socket: the same', async (t) => {
  const { control, socket } = await servers(t);
  const client = connect({ socket: socket.path });
  assert.equal(client.server, `unix:${socket.path}`);
  await exercise(client, control);
  await client.close();
});

test('a URL without a path gets /RPC; a bad URL or target is refused before any call', async (t) => {
  const { http } = await servers(t);
  const bare = http.url.replace(/\/RPC$/, '');
  assert.equal(connect({ url: bare }).server, http.url);
  assert.throws(() => connect({ url: 'https://127.0.0.1:1' }), RpcTransportError);
  assert.throws(() => connect({ url: 'http://x', socket: '/y' } as never), /url or socket, not both/);
  assert.throws(() => connect({ socket: '' }), /socket must be a path/);
  assert.throws(() => connect({}, { timeoutMs: 0 }), /timeoutMs must be a positive number/);
});

test('error answers are RpcCallError with the code: 404 unknown timer, 400 bad worker, -32601 unknown method', async (t) => {
  const { http } = await servers(t);
  const client = connect({ url: http.url });
  await assert.rejects(
    client.pause('nope'),
    (e: unknown) => e instanceof RpcCallError && e.code === 404 && /nope/.test(e.message),
  );
  await assert.rejects(client.pause('queue', 7), (e: unknown) => e instanceof RpcCallError && e.code === 400);
  await assert.rejects(client.call('ptimer.bogus'), (e: unknown) => e instanceof RpcCallError && e.code === -32601);
  await assert.rejects(client.pause('queue', -1), /worker must be an integer >= 0/);
  await assert.rejects(client.pause(''), /timer must be a timer's name/);
});

test('the token is sent; without it the server refuses with its own message', async (t) => {
  const token = 'a-token-of-enough-length';
  const { http } = await servers(t, token);
  assert.equal((await connect({ url: http.url }, { token }).list()).length, 1);
  await assert.rejects(connect({ url: http.url }).list(), (e: unknown) => e instanceof RpcCallError && e.code !== 0);
});

test('nothing listening: RpcTransportError naming the URL or socket', async () => {
  const port = await freePort();
  await assert.rejects(connect({ url: `http://127.0.0.1:${port}` }).list(), (e: unknown) => {
    assert.ok(e instanceof RpcTransportError);
    assert.match(
      e.message,
      new RegExp(`no ptimer server answers at http://127\\.0\\.0\\.1:${port}/RPC \\(connection refused\\)`),
    );
    return true;
  });
  await assert.rejects(
    connect({ socket: '/nonexistent/ptimer.sock' }).list(),
    /no ptimer server at \/nonexistent\/ptimer\.sock/,
  );
});

test('force goes as a named param, plain commands as positional ones; after close no call is sent', async (t) => {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const request = JSON.parse(text);
      bodies.push({ method: request.method, params: request.params });
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: request.id,
          result: { timer: 'queue', command: 'start', worker: null, workers: [] },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const client = connect({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  await client.start('queue', 0, { force: true });
  await client.end('queue', undefined, { force: true });
  await client.start('queue', 1);
  await client.reload();
  assert.deepEqual(bodies, [
    { method: 'ptimer.start', params: { timer: 'queue', worker: 0, force: true } },
    { method: 'ptimer.end', params: { timer: 'queue', force: true } },
    { method: 'ptimer.start', params: ['queue', 1] },
    { method: 'ptimer.reload', params: undefined },
  ]);
  await client.close();
  await assert.rejects(client.list(), (e: unknown) => e instanceof RpcTransportError && /closed/.test(e.message));
  assert.equal(bodies.length, 4);
});
