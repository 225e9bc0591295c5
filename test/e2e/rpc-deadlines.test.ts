/**
 * Issue 19's deadlines and half-close, in process over real sockets and a real FIFO, with
 * short limits so that each takes a fraction of a second: a socket line that never ends, a
 * BINRPC packet that never completes, a FIFO request whose writer stays open and stops; and
 * a socket client that half-closes after its requests gets every answer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { startBinrpcServer } from '../../src/rpc/binrpc-server.js';
import { startFifoServer } from '../../src/rpc/jsonrpcs-fifo.js';
import { BINRPC_FAULT, decodeHeader, decodeValues } from '../../src/rpc/binrpc-codec.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { waitFor } from '../fixtures/cli/harness.js';

const dir = mkdtempSync('/tmp/ptimer-dl-');
after(() => rmSync(dir, { recursive: true, force: true }));
const dispatcher = () => new RpcDispatcher(new FakeControl([{ name: 'queue', nworkers: 2 }]));

/** Connects, writes `bytes`, and collects what comes back until the server closes. */
function exchange(path: string, bytes: string | Buffer, halfClose = false): Promise<{ data: Buffer; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error('the server did not close within 5 s')), 5000);
    s.on('connect', () => (halfClose ? s.end(bytes) : s.write(bytes)));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ms: Date.now() - t0 });
    });
  });
}

test('socket: a line that does not end within requestTimeoutMs gets an error line and the connection is closed', async () => {
  const kinds: Array<string | undefined> = [];
  const path = join(dir, 'line.sock');
  const server = await startSocketServer({
    path,
    dispatcher: dispatcher(),
    limits: { requestTimeoutMs: 300, headersTimeoutMs: 300 },
    onClientClosed: (_r, kind) => kinds.push(kind),
  });
  try {
    const { data, ms } = await exchange(path, '{"jsonrpc":"2.0","method":"ptimer.list"');
    const answer = JSON.parse(data.toString());
    assert.equal(answer.error.code, -32600);
    assert.match(answer.error.message, /a line did not arrive whole within 300 ms/);
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    assert.deepEqual(kinds, ['timeout']);
  } finally {
    await server.close();
  }
});

test('socket: a client that half-closes after its requests gets every answer', async () => {
  const path = join(dir, 'half.sock');
  const server = await startSocketServer({ path, dispatcher: dispatcher() });
  try {
    const lines = [1, 2, 3]
      .map((id) => JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['queue', id % 2], id }))
      .join('\n');
    const { data } = await exchange(path, `${lines}\n`, true);
    const answers = data
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(answers.map((a) => a.id).sort(), [1, 2, 3]);
    for (const a of answers) assert.equal(a.error, undefined, JSON.stringify(a));
  } finally {
    await server.close();
  }
});

test('BINRPC: a packet that does not arrive whole within packetTimeoutMs gets a 408 fault and the connection is closed', async () => {
  const drops: Array<[string, string | undefined]> = [];
  const path = join(dir, 'drip_ctl');
  const server = await startBinrpcServer({
    address: { kind: 'unix', path },
    dispatcher: dispatcher(),
    packetTimeoutMs: 300,
    onDrop: (r, k) => drops.push([r, k]),
  });
  try {
    // A request header announcing 1,000 bytes (cookie 7), and 3 of them.
    const { data, ms } = await exchange(path, Buffer.from([0xa1, 0x04, 0x03, 0xe8, 0x07, 0x01, 0x02, 0x03]));
    const header = decodeHeader(data)!;
    assert.equal(header.type, BINRPC_FAULT);
    assert.equal(header.cookie, 7);
    assert.match(
      JSON.stringify(decodeValues(data.subarray(header.headerLength))),
      /408.*did not arrive whole within 300 ms/,
    );
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    assert.deepEqual(drops, [['BINRPC packet not complete within 300 ms (8 bytes of it arrived); closed', 'timeout']]);
  } finally {
    await server.close();
  }
});

test('FIFO: a request whose writer stays open and stops is dropped at its deadline, and the next one is read on its own', async () => {
  const drops: Array<[string, string | undefined]> = [];
  const path = join(dir, 'rpc.fifo');
  const server = await startFifoServer({
    path,
    dispatcher: dispatcher(),
    replyDir: dir,
    requestTimeoutMs: 300,
    onDrop: (r, k) => drops.push([r, k]),
  });
  const fd = openSync(path, fsc.O_WRONLY);
  try {
    writeSync(fd, '{"jsonrpc":"2.0","method":"ptimer.list"');
    await waitFor('the deadline drop', () => drops.length >= 1, 5000);
    assert.deepEqual(drops[0], ['a request not complete within 300 ms (39 bytes so far); dropped', 'timeout']);
    // Without the resync this would be swallowed into the request above.
    writeSync(fd, '{"jsonrpc":"2.0","method":"ptimer.list","id":2}');
    await waitFor('the next request to be read on its own', () => drops.length >= 2, 5000);
    assert.deepEqual(drops[1], ['request not run: reply_name must be a non-empty string', 'bad-request']);
  } finally {
    closeSync(fd);
    await server.close();
  }
});
