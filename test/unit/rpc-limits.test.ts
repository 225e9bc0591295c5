/**
 * The control interface's bounds (src/rpc/limits.ts) where no clock is involved: batch
 * length, batch answer size, params depth, configured limits, the token rule, connection
 * caps, malformed HTTP, and how many requests of one socket client run at once. The
 * timeouts and the memory under abuse are in test/e2e/rpc-abuse.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcDispatcher, nestsDeeperThan } from '../../src/rpc/dispatcher.js';
import { startHttpServer, tokenProblem, MIN_TOKEN_LENGTH } from '../../src/rpc/http-server.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { DEFAULT_RPC_LIMITS, MAX_ANSWER_BYTES, MAX_BATCH, resolveRpcLimits } from '../../src/rpc/limits.js';
import type { CommandResult, TimerControl } from '../../src/control-types.js';
import { runCommand } from '../../src/cli/run.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { waitFor as waitUntil } from '../fixtures/cli/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-rpc-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const req = (method: string, params?: unknown, id: unknown = 1) =>
  params === undefined ? { jsonrpc: '2.0', method, id } : { jsonrpc: '2.0', method, params, id };

/** 50 timers of 8 workers, with list() calls counted. */
function bigControl() {
  const control = new FakeControl(Array.from({ length: 50 }, (_, i) => ({ name: `timer${i}`, nworkers: 8 })));
  let lists = 0;
  const list = control.list.bind(control);
  control.list = () => {
    lists++;
    return list();
  };
  return { control, lists: () => lists };
}

test('the documented defaults', () => {
  assert.equal(MAX_BATCH, 1000);
  assert.equal(MAX_ANSWER_BYTES, 4 * 1024 * 1024);
  assert.equal(MIN_TOKEN_LENGTH, 16);
  assert.deepEqual(
    { ...DEFAULT_RPC_LIMITS },
    {
      maxBatch: 1000,
      maxAnswerBytes: 4194304,
      maxParamsDepth: 32,
      maxBodyBytes: 1048576,
      maxConnections: 64,
      maxInFlightPerConnection: 16,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 10000,
      keepAliveTimeoutMs: 5000,
      idleTimeoutMs: 10000,
      stuckWriteMs: 5000,
    },
  );
});

test('a batch of more than 1000 requests is refused whole with -32600; 1000 are answered', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const dispatcher = new RpcDispatcher(control);
  const batch = (n: number) =>
    JSON.stringify(Array.from({ length: n }, (_, i) => req('ptimer.pause', ['queue', 0], i)));
  const refused = JSON.parse((await dispatcher.handleText(batch(1001)))!);
  assert.equal(Array.isArray(refused), false);
  assert.equal(refused.id, null);
  assert.equal(refused.error.code, -32600);
  assert.equal(refused.error.message, 'invalid request: a batch of 1001 requests; at most 1000 per batch');
  assert.equal(control.calls.length, 0, 'nothing of a refused batch runs');

  const answered = JSON.parse((await dispatcher.handleText(batch(1000)))!);
  assert.equal(answered.length, 1000);
  assert.deepEqual(
    answered.map((r: { id: number }) => r.id),
    Array.from({ length: 1000 }, (_, i) => i),
    'in request order',
  );
  assert.equal(control.calls.length, 1000);
  // handle() (parsed messages) follows the same rules.
  assert.equal(((await dispatcher.handle(JSON.parse(batch(1001)))) as { error: { code: number } }).error.code, -32600);
});

test('a batch whose answer would pass 4 MiB is answered with one error, from one list() snapshot', async () => {
  const { control, lists } = bigControl();
  const dispatcher = new RpcDispatcher(control);
  const one = (await dispatcher.handleText(JSON.stringify(req('ptimer.list'))))!;
  assert.ok(one.length > 50_000, `one list answer is ${one.length} bytes`);
  assert.equal(lists(), 1);

  const text = JSON.stringify(Array.from({ length: 1000 }, (_, i) => req('ptimer.list', undefined, i)));
  const answer = (await dispatcher.handleText(text))!;
  assert.ok(answer.length < 1000, 'not a partial answer');
  const refused = JSON.parse(answer);
  assert.equal(refused.id, null);
  assert.equal(refused.error.code, -32600);
  assert.equal(
    refused.error.message,
    'invalid request: the answer to this batch of 1000 requests would be larger than 4194304 bytes (4 MiB); send fewer requests per batch',
  );
  assert.equal(lists(), 2, 'the whole batch shared one snapshot');

  // Under the limit, the whole batch is answered.
  const ten = JSON.parse(
    (await dispatcher.handleText(JSON.stringify(Array.from({ length: 10 }, (_, i) => req('ptimer.list', [], i)))))!,
  );
  assert.equal(ten.length, 10);
  assert.equal(ten[9].result.length, 50);
});

test('once a batch answer is over the limit, the rest of the batch does not run', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 4 }]);
  const dispatcher = new RpcDispatcher(control, { limits: { maxAnswerBytes: 2000 } });
  // Lists first (over the limit after a few), then commands, which must not reach the control.
  const batch = [
    ...Array.from({ length: 20 }, (_, i) => req('ptimer.list', undefined, i)),
    req('ptimer.pause', ['queue'], 'p'),
  ];
  const refused = JSON.parse((await dispatcher.handleText(JSON.stringify(batch)))!);
  assert.equal(refused.error.code, -32600);
  assert.match(refused.error.message, /larger than 2000 bytes/);
  assert.equal(control.calls.length, 0);
  assert.equal(control.list()[0]!.workers[0]!.paused, false);
});

test('a single request is answered in full whatever its size', async () => {
  const { control } = bigControl();
  const dispatcher = new RpcDispatcher(control, { limits: { maxAnswerBytes: 1000 } });
  const res = JSON.parse((await dispatcher.handleText(JSON.stringify(req('ptimer.list'))))!);
  assert.equal(res.result.length, 50);
});

test('params nested deeper than 32 levels are refused with 400, however deep, never 500', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const internal: unknown[] = [];
  const dispatcher = new RpcDispatcher(control, { onInternalError: (e) => internal.push(e) });
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  for (const depth of [33, 100, 5000, 200_000]) {
    for (const params of [nested(depth), `{"timer":"queue","worker":${nested(depth - 1)}}`]) {
      const res = JSON.parse(
        (await dispatcher.handleText(`{"jsonrpc":"2.0","method":"ptimer.pause","params":${params},"id":7}`))!,
      );
      assert.equal(res.id, 7);
      assert.equal(res.error.code, 400, `depth ${depth}: ${JSON.stringify(res).slice(0, 200)}`);
      assert.equal(res.error.message, 'ptimer.pause: params nest more than 32 levels deep; at most 32');
    }
  }
  // 32 levels pass the depth check and fail on their meaning.
  const ok = JSON.parse(
    (await dispatcher.handleText(`{"jsonrpc":"2.0","method":"ptimer.pause","params":${nested(32)},"id":1}`))!,
  );
  assert.equal(ok.error.code, 400);
  assert.match(ok.error.message, /the timer must be a non-empty string, got \[\[\[/);
  // In a batch, and for an unknown method (-32601 first).
  const batch = JSON.parse(
    (await dispatcher.handleText(
      `[{"jsonrpc":"2.0","method":"ptimer.list","params":${nested(100)},"id":1},{"jsonrpc":"2.0","method":"nope","params":${nested(100)},"id":2}]`,
    ))!,
  );
  assert.deepEqual(
    batch.map((r: { error: { code: number } }) => r.error.code),
    [400, -32601],
  );
  assert.equal(internal.length, 0);
  assert.equal(control.calls.length, 0);

  assert.equal(nestsDeeperThan([], 1), false);
  assert.equal(nestsDeeperThan([[]], 1), true);
  assert.equal(nestsDeeperThan({ a: [1, { b: 2 }] }, 3), false);
  assert.equal(nestsDeeperThan({ a: [1, { b: {} }] }, 3), true);
});

test("the client's text is cut in messages", async () => {
  const dispatcher = new RpcDispatcher(new FakeControl([{ name: 'queue', nworkers: 1 }]));
  const long = 'x'.repeat(100_000);
  for (const body of [
    req(long),
    req('ptimer.pause', [long]),
    req('system.methodHelp', [long]),
    req('ptimer.pause', { [long]: 1 }),
  ]) {
    const res = JSON.parse((await dispatcher.handleText(JSON.stringify(body)))!);
    assert.ok(res.error.message.length < 300, res.error.message.slice(0, 300));
  }
});

test('limits: overrides checked, with the allowed range in the message', () => {
  assert.equal(resolveRpcLimits({ maxConnections: 3 }).maxConnections, 3);
  assert.equal(resolveRpcLimits({ maxConnections: undefined }).maxConnections, 64);
  assert.throws(
    () => resolveRpcLimits({ maxConnections: 0 }),
    /RPC limit maxConnections must be an integer from 1 to 10000, got 0/,
  );
  assert.throws(() => resolveRpcLimits({ maxBatch: 1.5 }), /maxBatch must be an integer from 1 to 100000, got 1.5/);
  assert.throws(
    () => resolveRpcLimits({ idleTimeoutMs: '5' as unknown as number }),
    /idleTimeoutMs must be an integer/,
  );
  assert.throws(() => resolveRpcLimits({ nope: 1 } as never), /unknown RPC limit "nope"; the limits are maxBatch, /);
  assert.throws(
    () => resolveRpcLimits({ headersTimeoutMs: 20_000 }),
    /headersTimeoutMs \(20000\) must not be larger than requestTimeoutMs \(10000\)/,
  );
});

test('the token rule: none or under 16 characters is refused off loopback, with a message saying so', () => {
  assert.equal(tokenProblem('127.0.0.1', undefined), undefined);
  assert.equal(tokenProblem('::1', 'a'), undefined);
  assert.match(tokenProblem('0.0.0.0', undefined)!, /without a token/);
  assert.match(
    tokenProblem('0.0.0.0', 'a')!,
    /with a token of 1 character: a token there must be at least 16 characters/,
  );
  assert.match(tokenProblem('192.0.2.1', 'x'.repeat(15))!, /with a token of 15 characters/);
  assert.equal(tokenProblem('192.0.2.1', 'abcdefx'.repeat(3)), undefined);
});

test('ptimer run refuses a token under 16 characters for a non-loopback --http, before anything starts', async () => {
  const io = { out: () => {}, err: () => {} };
  await assert.rejects(
    runCommand(['--http', '0.0.0.0:0', '--rpc-token', 'short'], io),
    /^CliError: refusing to start: --http 0\.0\.0\.0:0 is not a loopback address, and a token there must be at least 16 characters \(this one has 5\); give a longer --rpc-token/,
  );
  await assert.rejects(
    runCommand(['--http', '[::]:0', '--rpc-token', 'x'.repeat(15)], io),
    /a token there must be at least 16 characters \(this one has 15\)/,
  );
});

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}
const LIST = '{"jsonrpc":"2.0","method":"ptimer.list","id":1}';
const LIST_CLOSE = `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`;
const LIST_KEEP = `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`;

/** Sends raw bytes over TCP and reads everything until the server closes. */
async function rawText(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}
async function raw(port: number, bytes: string): Promise<RawAnswer> {
  const text = await rawText(port, bytes);
  const at = text.indexOf('\r\n\r\n');
  const head = text.slice(0, at);
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), headers: head, body: text.slice(at + 4) };
}

test('HTTP: malformed requests are answered 400 (431 for huge headers) with a JSON-RPC error body', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, dispatcher: new RpcDispatcher(control) });
  try {
    const cases: Array<[string, number, RegExp]> = [
      ['GARBAGE\r\n\r\n', 400, /^invalid request: malformed HTTP \(/],
      ['POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n', 400, /malformed HTTP/],
      ['POST /RPC HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 400, /malformed HTTP/],
      [`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /headers are too large/],
    ];
    for (const [bytes, status, message] of cases) {
      const res = await raw(server.port, bytes);
      assert.equal(res.status, status, JSON.stringify(bytes.slice(0, 60)));
      assert.match(res.headers, /Content-Type: application\/json/);
      const body = JSON.parse(res.body);
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.id, null);
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, message);
    }
    const ok = await raw(server.port, LIST_CLOSE);
    assert.equal(ok.status, 200);
    // A good request, then garbage on the same connection: the good one is answered first.
    const all = (await rawText(server.port, `${LIST_KEEP}GARBAGE\r\n\r\n`)).split('HTTP/1.1 ');
    assert.deepEqual(
      all.slice(1).map((r) => r.slice(0, 3)),
      ['200', '400'],
    );
    assert.match(all[2]!, /"error":\{"code":-32600,"message":"invalid request: malformed HTTP/);
  } finally {
    await server.close();
  }
});

/** Opens a connection and resolves once the server has taken it (or closed it). */
async function openHeld(connectTo: () => Socket): Promise<{ socket: Socket; closed: Promise<unknown> }> {
  const socket = connectTo();
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, closed };
}

test('HTTP: past maxConnections the idlest connection is shed for a new one, which is answered', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  const drops: Array<[string, string | undefined]> = [];
  // A new connection's grace (its time to send a request) is 1 s; the headers timeout must be longer, or it closes them first.
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher: new RpcDispatcher(control),
    limits: { maxConnections: 2, headersTimeoutMs: 3000 },
    onDrop: (reason, kind) => drops.push([reason, kind]),
  });
  try {
    const held = [
      await openHeld(() => connect(server.port, '127.0.0.1')),
      await openHeld(() => connect(server.port, '127.0.0.1')),
    ];
    await waitForCount(server.server, 2);
    const openedAt = Date.now();
    await waitUntil('the held connections to be past their grace', () => Date.now() - openedAt > 1100);
    const res = await raw(server.port, LIST_CLOSE);
    assert.equal(res.status, 200);
    await held[0]!.closed; // the idlest (oldest) one was shed
    assert.equal(held[1]!.socket.destroyed, false);
    assert.deepEqual(drops, [['2 HTTP connections open (limit 2); closed the idlest for a new one', 'shed']]);
    held[1]!.socket.destroy();
  } finally {
    await server.close();
  }
});

test('socket: past maxConnections the idlest client is shed for a new one, which is answered', async () => {
  const control = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  const path = join(dir, 'cap.sock');
  const closedFor: Array<string | undefined> = [];
  const server = await startSocketServer({
    path,
    dispatcher: new RpcDispatcher(control),
    limits: { maxConnections: 1, idleTimeoutMs: 3000 }, // the grace is 1 s: the idle timeout must be longer
    onClientClosed: (_reason, kind) => closedFor.push(kind),
  });
  try {
    const first = await openHeld(() => connect(path));
    await waitForCount(server.server, 1);
    const openedAt = Date.now();
    await waitUntil('the first client to be past its grace', () => Date.now() - openedAt > 1100);
    const second = await openHeld(() => connect(path));
    await first.closed;
    second.socket.write(`${JSON.stringify(req('ptimer.list'))}\n`);
    const [line] = (await once(second.socket, 'data')) as [Buffer];
    assert.equal(JSON.parse(line.toString()).result[0].name, 'queue');
    assert.deepEqual(closedFor, ['shed']);
    second.socket.destroy();
  } finally {
    await server.close();
  }
});

/** A control whose commands wait until released, counting how many run at once. */
class GatedControl implements TimerControl {
  running = 0;
  most = 0;
  started = 0;
  private gates: Array<() => void> = [];
  private readonly inner = new FakeControl([{ name: 'queue', nworkers: 1 }]);
  list() {
    return this.inner.list();
  }
  private async gate(then: () => Promise<CommandResult>): Promise<CommandResult> {
    this.started++;
    this.running++;
    this.most = Math.max(this.most, this.running);
    await new Promise<void>((r) => this.gates.push(r));
    this.running--;
    return then();
  }
  releaseAll(): void {
    for (const g of this.gates.splice(0)) g();
  }
  pause = (t: string, w?: number) => this.gate(() => this.inner.pause(t, w));
  continue = (t: string, w?: number) => this.gate(() => this.inner.continue(t, w));
  start = (t: string, w?: number) => this.gate(() => this.inner.start(t, w));
  loop = (t: string, w?: number) => this.gate(() => this.inner.loop(t, w));
  end = (t: string, w?: number) => this.gate(() => this.inner.end(t, w));
}

test('socket: at most maxInFlightPerConnection requests of one client run at once; the rest wait their turn', async () => {
  const control = new GatedControl();
  const path = join(dir, 'inflight.sock');
  const server = await startSocketServer({
    path,
    dispatcher: new RpcDispatcher(control),
    limits: { maxInFlightPerConnection: 3 },
  });
  try {
    const client = connect(path);
    const lines: string[] = [];
    let buffer = '';
    client.setEncoding('utf8');
    client.on('data', (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    client.write(
      Array.from({ length: 10 }, (_, i) => `${JSON.stringify(req('ptimer.pause', ['queue'], i))}\n`).join(''),
    );
    while (lines.length < 10) {
      await waitFor(() => control.running > 0 || lines.length === 10);
      assert.ok(control.running <= 3, `${control.running} running`);
      control.releaseAll();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(control.most, 3);
    assert.equal(control.started, 10);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).id).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    client.destroy();
  } finally {
    await server.close();
  }
});

async function waitForCount(
  server: { getConnections(cb: (err: Error | null, n: number) => void): void },
  n: number,
): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        server.getConnections((_err, count) => resolve(count === n));
      }),
  );
}

/** Polls on the event loop's turns (no clock): the condition is met by I/O, not by time passing. */
async function waitFor(check: () => boolean | Promise<boolean>, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not met');
}
