/**
 * pt.serve(): the control interface from the host's own process, over HTTP (with /metrics) and a
 * Unix socket, answering as `ptimer run` does; stop() closes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer } from '../../src/index.js';
import { httpRequest, rpcSocket } from '../fixtures/cli/harness.js';

const routes = new URL('../fixtures/runtime/routes.ts', import.meta.url);

test('pt.serve: JSON-RPC over HTTP and a socket, /metrics, closed by stop()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-serve-'));
  const pt = await PTimer.create(
    { timer: [{ name: 't', interval: '10ms', loop: 'COUNT_LOOP', nworkers: 2 }] },
    { routes, log: { level: 'silent' } },
  );
  await pt.run();
  const socket = join(dir, 'ctl.sock');
  const servers = await pt.serve({ http: { port: 0 }, socket });
  try {
    const port = Number(new URL(servers.url!).port);
    const pause = await httpRequest(port, {
      body: JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['t', 1], id: 1 }),
    });
    assert.equal(JSON.parse(pause.body).result.workers[0].state, 'paused');
    const list = await rpcSocket(socket, 'ptimer.list');
    assert.equal((list.result as Array<{ workers: Array<{ paused: boolean }> }>)[0]!.workers[1]!.paused, true);
    const metrics = await httpRequest(port, { method: 'GET', path: '/metrics' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /ptimer_worker_paused\{timer="t",worker="1"\} 1/);
    await assert.rejects(pt.serve({}), /give http/);
  } finally {
    await pt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(existsSync(socket), false, 'the socket file is removed');
  // Refused, or (a kept-alive connection the server closed) hung up: either way nothing answers.
  await assert.rejects(
    httpRequest(Number(new URL(servers.url!).port), { body: '{}' }),
    /ECONNREFUSED|socket hang up|ECONNRESET/,
  );
});
