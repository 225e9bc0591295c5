/**
 * End to end: how `ptimer run` starts and stops - the token rule for non-loopback
 * addresses, a socket-only server, a stale socket file, a port in use, a bad config, the
 * second signal - and `ptimer check` on the demo config.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { existsSync, linkSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, freePort, httpRequest, rpcHttp, rpcSocket, runCli, waitFor } from '../fixtures/cli/harness.js';

const CONFIG = 'test/fixtures/cli/e2e.config.ts';
const dir = mkdtempSync(join(tmpdir(), 'ptimer-e2e-srv-'));
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await s.kill();
  rmSync(dir, { recursive: true, force: true });
});
function start(args: string[], env: NodeJS.ProcessEnv = {}): Server {
  const s = new Server(args, env);
  servers.push(s);
  return s;
}

test('a non-loopback address without a token: refused, with a message saying so', async () => {
  const port = await freePort();
  const r = await runCli(['run', CONFIG, '--http', `0.0.0.0:${port}`], { env: { PTIMER_RPC_TOKEN: '' } });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^ptimer run: refusing to start: --http 0\.0\.0\.0:\d+ is not a loopback address, and the control interface there needs a token; give --rpc-token TOKEN \(or set PTIMER_RPC_TOKEN\), or bind 127\.0\.0\.1\n$/,
  );
});

test('with a token: requests without it get 401, ptimer rpc --token gets through', async () => {
  const port = await freePort();
  const server = start([CONFIG, '--http', `0.0.0.0:${port}`, '--log-level', 'warn'], {
    PTIMER_RPC_TOKEN: 'e2e-secret-of-32-characters-xyz',
  });
  const auth = { Authorization: 'Bearer e2e-secret-of-32-characters-xyz' };
  await waitFor('the server to answer', async () => {
    if (!server.running) throw new Error(server.stderr);
    return (await rpcHttp(port, 'ptimer.list', undefined, auth)).result;
  });
  const none = await httpRequest(port, { body: JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.list', id: 1 }) });
  assert.equal(none.status, 401);
  assert.match(JSON.parse(none.body).error.message, /bearer token is required/);
  assert.equal((await httpRequest(port, { method: 'GET', path: '/metrics' })).status, 401);
  assert.equal((await httpRequest(port, { method: 'GET', path: '/metrics', headers: auth })).status, 200);

  const url = `http://127.0.0.1:${port}`;
  const denied = await runCli(['rpc', 'ptimer.list', '--url', url], { env: { PTIMER_RPC_TOKEN: '' } });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^ptimer rpc: error 401: a bearer token is required/);
  const wrong = await runCli(['rpc', 'ptimer.list', '--url', url, '--token', 'nope']);
  assert.match(wrong.stderr, /error 401: wrong bearer token/);
  const ok = await runCli(['rpc', 'ptimer.pause', 'lazy', '--url', url, '--token', 'e2e-secret-of-32-characters-xyz']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).workers[0].paused, true);
  const viaEnv = await runCli(['rpc', 'ptimer.continue', 'lazy', '--url', url], {
    env: { PTIMER_RPC_TOKEN: 'e2e-secret-of-32-characters-xyz' },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  server.child.kill('SIGINT');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
});

test('--no-http with --socket; a stale socket file from a crashed run does not stop the start', async () => {
  const socket = join(dir, 'stale.sock');
  // Leave a socket file nobody listens on, as a killed process does.
  const leftover = createServer();
  await new Promise<void>((r) => leftover.listen(socket, r));
  linkSync(socket, `${socket}.keep`);
  await new Promise<void>((r) => leftover.close(() => r()));
  renameSync(`${socket}.keep`, socket);
  assert.ok(statSync(socket).isSocket());

  const server = start([CONFIG, '--no-http', '--socket', socket]);
  await waitFor('the socket to answer', async () => {
    if (!server.running) throw new Error(server.stderr);
    return (await rpcSocket(socket, 'ptimer.list')).result;
  });
  assert.ok(server.logs().some((l) => /removed a stale socket file/.test(String(l.msg))));
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  // A second server on the same live socket is refused.
  const second = await runCli(['run', CONFIG, '--no-http', '--socket', socket]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another server is answering on/);
  server.child.kill('SIGINT');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  assert.equal(existsSync(socket), false);
});

test('a second signal exits at once, non-zero, while the end routes are still running', async () => {
  const socket = join(dir, 'slow.sock');
  const server = start(['test/fixtures/cli/slow-end.config.ts', '--no-http', '--socket', socket]);
  await waitFor('the worker looping', async () => {
    if (!server.running) throw new Error(server.stderr);
    return (await rpcSocket(socket, 'ptimer.list')).result?.[0]?.workers[0]?.route === 'loop';
  });
  server.child.kill('SIGINT');
  await waitFor('the first signal to be taken', () =>
    server.logs().some((l) => l.signal === 'SIGINT' && /^stopping/.test(String(l.msg))),
  );
  const t0 = Date.now();
  server.child.kill('SIGINT');
  const { code } = await server.waitForExit(10_000);
  assert.equal(code, 130);
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(server.logs().some((l) => /second signal/.test(String(l.msg))));
  assert.equal(existsSync(socket), false);
});

test('a port in use, and a bad config: exit 1 with one line', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = await runCli(['run', CONFIG, '--http', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^ptimer run: cannot listen on 127\\.0\\.0\\.1:${port}: the HTTP port ${port} is taken .*: give another with --http 127\\.0\\.0\\.1:PORT \\(--http 127\\.0\\.0\\.1:0 picks a free one\\)`,
      ),
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    busy.close();
  }
  const bad = await runCli(['run', 'test/fixtures/cli/bad.config.ts', '--http', `127.0.0.1:${await freePort()}`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ptimer run: .*10m/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const check = await runCli(['check', 'test/fixtures/cli/bad.config.ts']);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /^ptimer check: .*10m/);
  const missing = await runCli(['run', 'no/such.config.ts']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ptimer run: no such config file: no\/such\.config\.ts$/m);
  const none = await runCli(['check'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no CONFIG given and none of ptimer\.config\.ts, ptimer\.config\.js, ptimer\.config\.mjs/);
});

test('ptimer check on the demo config prints its resolved timers', async () => {
  const r = await runCli(['check', 'examples/demo.config.ts']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^examples\/demo\.config\.ts: OK, 3 timers$/m);
  assert.match(r.stdout, /^TIMER\s+TYPE\s+INTERVAL\s+NWORKERS\s+NTASKS\s+NSLICES\s+SPIN\s+START\s+LOOP\s+END$/m);
  assert.match(r.stdout, /^pacer\s+1 \(sync\)\s+1ms\s+1\s/m);
  assert.match(r.stdout, /^releaser\s+3 \(synced-slice\)\s+100ms\s+2\s+50\s+20\s/m);
  assert.match(r.stdout, /^optimizer\s+0 \(basic\)\s+500ms\s+1\s/m);
});

test('--log-pretty: readable lines instead of JSON', async () => {
  const port = await freePort();
  const server = start([CONFIG, '--http', `127.0.0.1:${port}`, '--log-pretty']);
  await waitFor('the ready line', () => {
    if (!server.running) throw new Error(server.stderr);
    return /control interface ready/.test(server.stdout);
  });
  const line = server.stdout.split('\n').find((l) => /control interface ready/.test(l))!;
  assert.doesNotMatch(line, /^\{/);
  assert.match(line, /INFO/);
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
});
