/**
 * The control interface under abuse, end to end over real sockets.
 *
 * First the timeouts, in process with short limits so that they take a fraction of a
 * second: slow headers and slow bodies get 408 with a JSON-RPC body, idle keep-alive
 * connections and clients that never read their answers are closed, a client waiting on a
 * slow command is not.
 *
 * Then memory, with the default limits (as `ptimer run` has them): a server on HTTP and a
 * Unix socket runs in a child process (`node --expose-gc`, from dist/, as in production)
 * over a fake TimerControl of 50 timers x 8 workers (one `ptimer.list` answer is about
 * 170 KB). For each abuse case the parent reads the child's RSS from /proc: idle (after a
 * warm-up and a GC), the peak during the case (VmHWM, reset through /proc/PID/clear_refs
 * before it, and sampled every 5 ms besides), and after it (once the child has collected
 * its garbage). Each peak and each after must stay below 2x the idle RSS. The figures are
 * printed (`rpc-abuse: ...` lines):
 *
 *   node --import tsx --test test/e2e/rpc-abuse.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startHttpServer } from '../../src/rpc/http-server.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { ROOT, waitFor } from '../fixtures/cli/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-rpc-abuse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LIST = '{"jsonrpc":"2.0","method":"ptimer.list","id":1}';
const SHORT = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 300,
  idleTimeoutMs: 500,
  stuckWriteMs: 500,
};

function bigControl(): FakeControl {
  return new FakeControl(Array.from({ length: 50 }, (_, i) => ({ name: `timer${i}`, nworkers: 8 })));
}

/** Writes raw bytes, reads until the server closes; `trickle` keeps sending a byte every 50 ms meanwhile. */
async function rawUntilClosed(port: number, bytes: string, trickle?: string): Promise<{ text: string; ms: number }> {
  const t0 = Date.now();
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(bytes);
  const timer = trickle ? setInterval(() => socket.writable && socket.write(trickle), 50) : undefined;
  await closeOf(socket);
  clearInterval(timer);
  return { text: Buffer.concat(chunks).toString(), ms: Date.now() - t0 };
}

/** Resolves when `socket` closes, whatever error came first (events.once would reject on it). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

function connections(server: { getConnections(cb: (err: Error | null, n: number) => void): void }): Promise<number> {
  return new Promise((resolve) => server.getConnections((_e, n) => resolve(n)));
}

test('HTTP: slow headers and slow bodies get 408 with a JSON-RPC body; idle keep-alive is closed', async () => {
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher: new RpcDispatcher(bigControl()),
    limits: SHORT,
  });
  try {
    // Headers that never end, a byte at a time (slowloris).
    const headers = await rawUntilClosed(server.port, 'POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'a');
    assert.match(headers.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    const body = JSON.parse(headers.text.slice(headers.text.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body.error.code, -32600);
    assert.match(
      body.error.message,
      /did not arrive in time \(headers within 300 ms, the whole request within 600 ms\)/,
    );
    assert.ok(headers.ms >= 250 && headers.ms < 5000, `cut after ${headers.ms} ms`);

    // Headers complete, the body trickles.
    const slowBody = await rawUntilClosed(
      server.port,
      'POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"a":',
      ' ',
    );
    assert.match(slowBody.text, /^HTTP\/1\.1 408 /);
    assert.ok(slowBody.ms >= 550 && slowBody.ms < 5000, `cut after ${slowBody.ms} ms`);

    // One request answered, then nothing: closed after the keep-alive timeout.
    const idle = await rawUntilClosed(
      server.port,
      `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`,
    );
    assert.match(idle.text, /^HTTP\/1\.1 200 OK/);
    assert.ok(idle.ms >= 250 && idle.ms < 5000, `closed after ${idle.ms} ms`);

    // Connected, nothing sent: closed too.
    const silent = await rawUntilClosed(server.port, '');
    assert.ok(silent.ms >= 250 && silent.ms < 5000, `closed after ${silent.ms} ms`);
  } finally {
    await server.close();
  }
});

test('HTTP: a client that never reads its answers is closed; one waiting on a slow command is not', async () => {
  const control = bigControl();
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher: new RpcDispatcher(control),
    limits: SHORT,
  });
  try {
    // Pipelined lists, never read: Node stops parsing while answers are unread, and the idle timeout cuts it.
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause();
    const one = `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`;
    socket.write(one.repeat(200));
    await once(socket, 'connect');
    await waitFor('the server to hold the connection', async () => (await connections(server.server)) === 1, 5000, 10);
    const t0 = Date.now();
    await waitFor(
      'the server to close the client that does not read',
      async () => (await connections(server.server)) === 0,
      10_000,
      10,
    );
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `closed after ${ms} ms`);
    socket.destroy();

    // A command that takes longer than the idle timeout is still answered.
    control.delayMs = 1200;
    const t1 = Date.now();
    const start = '{"jsonrpc":"2.0","method":"ptimer.start","params":["timer1"],"id":1}';
    const answer = await rawUntilClosed(
      server.port,
      `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${start.length}\r\n\r\n${start}`,
    );
    assert.ok(Date.now() - t1 >= 1100);
    assert.match(answer.text, /^HTTP\/1\.1 200 OK[^]*"command":"start"/);
  } finally {
    await server.close();
  }
});

test('socket: a client that never reads is paused, then closed; an idle one is closed; a slow command is answered', async () => {
  const control = bigControl();
  const path = join(dir, 'short.sock');
  const closed: string[] = [];
  const server = await startSocketServer({
    path,
    dispatcher: new RpcDispatcher(control),
    limits: SHORT,
    onClientClosed: (r) => closed.push(r),
  });
  try {
    const stuck = connect(path);
    stuck.on('error', () => {});
    stuck.pause(); // never reads
    const gone = closeOf(stuck);
    let written = 0;
    const t0 = Date.now();
    const writeMore = (): void => {
      while (!stuck.destroyed && written < 1e6 && stuck.write(`${LIST}\n`)) written++;
    };
    stuck.on('drain', writeMore);
    writeMore();
    await gone;
    const ms = Date.now() - t0;
    assert.ok(ms >= 450 && ms < 5000, `closed after ${ms} ms`);
    assert.ok(written < 100_000, `the server stopped reading (${written} requests written)`);
    assert.match(closed[0] ?? '', /did not read its answers for 500 ms: closed it/);
    await waitFor('the connection to be gone', async () => (await connections(server.server)) === 0, 5000, 10);

    const idle = connect(path);
    idle.on('error', () => {});
    const t1 = Date.now();
    await closeOf(idle);
    assert.ok(Date.now() - t1 >= 450, 'closed once idle');
    assert.match(closed[1] ?? '', /sent nothing for 500 ms/);

    control.delayMs = 1200;
    const slow = connect(path);
    slow.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.start', params: ['timer1'], id: 9 })}\n`);
    const [line] = (await once(slow, 'data')) as [Buffer];
    assert.equal(JSON.parse(line.toString()).result.command, 'start');
    slow.destroy();
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------
// Memory under abuse: a server in a child process, default limits.

const CHILD_SOURCE = `
import { RpcDispatcher } from ${JSON.stringify(join(ROOT, 'dist/rpc/dispatcher.js'))};
import { startHttpServer } from ${JSON.stringify(join(ROOT, 'dist/rpc/http-server.js'))};
import { startSocketServer } from ${JSON.stringify(join(ROOT, 'dist/rpc/socket-server.js'))};
// A fake TimerControl: 50 timers x 8 workers, a fresh list each call (as the engine builds one).
const worker = (i) => ({ worker: i, pid: process.pid, threadId: i + 1, ntasks: 0, tasks: 0, nslices: 1, slice: 0, paused: false,
  route: 'loop', interval: '10ms', iterations: 123456 + i, overruns: i, errors: 0, restarts: 0, lateJoins: 0, spin: 40,
  lateness: { p50: 52, p99: 140, max: 1830, count: 123456, sum: 6419712 } });
const control = {
  list: () => Array.from({ length: 50 }, (_, t) => ({ name: 'timer' + t, type: 3, interval: '10ms', nworkers: 8, ntasks: 0, nslices: 1,
    start: 'START', loop: 'LOOP', end: 'END', workers: Array.from({ length: 8 }, (_, i) => worker(i)) })),
  pause: async () => {}, continue: async () => {}, start: async () => {}, loop: async () => {}, end: async () => {},
};
const dispatcher = new RpcDispatcher(control);
const http = await startHttpServer({ host: '127.0.0.1', port: 0, dispatcher });
const socket = await startSocketServer({ path: process.argv[2], dispatcher, onClientClosed: (reason) => process.send({ event: 'closed', reason }) });
const count = (s) => new Promise((r) => s.getConnections((_e, n) => r(n)));
process.on('message', async (m) => {
  if (m.op === 'gc') { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); } }
  process.send({ id: m.id, http: await count(http.server), socket: await count(socket.server), heap: process.memoryUsage().heapUsed });
});
process.send({ event: 'ready', port: http.port });
`;

interface Child {
  proc: ChildProcess;
  port: number;
  socketPath: string;
  ask(op: 'gc' | 'stats'): Promise<{ http: number; socket: number; heap: number }>;
  closedReasons: string[];
}

async function startChild(): Promise<Child> {
  const file = join(dir, 'abuse-server.mjs');
  writeFileSync(file, CHILD_SOURCE);
  const socketPath = join(dir, 'abuse.sock');
  const proc = fork(file, [socketPath], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (v: never) => void>();
  const closedReasons: string[] = [];
  let nextId = 1;
  const ready = new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the server child exited (${code})`)));
    proc.on('message', (m: { id?: number; event?: string; port?: number; reason?: string }) => {
      if (m.event === 'ready') resolve(m.port!);
      else if (m.event === 'closed') closedReasons.push(m.reason!);
      else if (m.id !== undefined) waiting.get(m.id)?.(m as never);
    });
  });
  const port = await ready;
  return {
    proc,
    port,
    socketPath,
    closedReasons,
    ask(op) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        proc.send({ id, op });
      });
    },
  };
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

interface Figures {
  name: string;
  idle: number;
  peak: number;
  after: number;
  note: string;
}
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Runs one abuse case and measures the child's RSS before (idle), during (peak) and after it. */
async function measure(child: Child, name: string, run: () => Promise<string>): Promise<Figures> {
  const pid = child.proc.pid!;
  await child.ask('gc');
  const idle = status(pid, 'VmRSS');
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  } catch {
    hwmReset = false; // not allowed here (some sandboxes): the 5 ms samples alone give the peak
  }
  let sampled = idle;
  const sampler = setInterval(() => (sampled = Math.max(sampled, status(pid, 'VmRSS'))), 5);
  let note: string;
  try {
    note = await run();
  } finally {
    clearInterval(sampler);
  }
  const peak = hwmReset ? Math.max(sampled, status(pid, 'VmHWM')) : Math.max(sampled, status(pid, 'VmRSS'));
  await child.ask('gc');
  const figures = { name, idle, peak, after: status(pid, 'VmRSS'), note };
  console.log(
    `rpc-abuse: ${name}: idle ${mb(figures.idle)}, peak ${mb(figures.peak)}, after ${mb(figures.after)}; ${note}`,
  );
  return figures;
}

function post(port: number, body: string, agent?: Agent): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/RPC',
        agent: agent ?? false,
        headers: { 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), ms: Date.now() - t0 }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A batch of `count` `ptimer.list` calls. */
function listBatch(count: number): string {
  return JSON.stringify(Array.from({ length: count }, (_, i) => ({ jsonrpc: '2.0', method: 'ptimer.list', id: i })));
}
/** How many `ptimer.list` calls fit in a batch of 1 MiB. */
const ONE_MIB_COUNT = (() => {
  let bytes = 1;
  let n = 0;
  while (bytes + JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.list', id: n }).length + 1 <= 1024 * 1024) {
    bytes += JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.list', id: n }).length + 1;
    n++;
  }
  return n;
})();

test('memory under abuse stays below 2x the idle RSS (50 timers x 8 workers, default limits)', async () => {
  const child = await startChild();
  const results: Figures[] = [];
  try {
    // Warm up every path once, so that idle includes what the first request loads.
    const warm = await post(child.port, LIST);
    assert.equal(warm.status, 200);
    const oneListBytes = warm.body.length;
    await post(child.port, listBatch(2000));
    await post(child.port, listBatch(1000));
    const baseline = (await child.ask('gc'), status(child.proc.pid!, 'VmRSS'));
    console.log(
      `rpc-abuse: idle server RSS ${mb(baseline)}; one ptimer.list answer is ${(oneListBytes / 1024).toFixed(0)} KB`,
    );

    const batch1MiB = listBatch(ONE_MIB_COUNT);
    assert.ok(batch1MiB.length <= 1024 * 1024 && batch1MiB.length > 1024 * 1024 - 100);
    results.push(
      await measure(child, `a 1 MiB batch of ptimer.list (${ONE_MIB_COUNT} calls)`, async () => {
        const res = await post(child.port, batch1MiB);
        const answer = JSON.parse(res.body);
        assert.equal(answer.error.code, -32600);
        assert.match(answer.error.message, /at most 1000 per batch/);
        return `answered ${res.status} with one -32600 error (${res.body.length} bytes) in ${res.ms} ms`;
      }),
    );

    const small = async (): Promise<number> => {
      const res = await post(child.port, LIST);
      assert.equal(res.status, 200);
      return res.ms;
    };
    results.push(
      await measure(child, '4 such batches in parallel, and a small call', async () => {
        const batches = Array.from({ length: 4 }, () => post(child.port, batch1MiB));
        const smallMs = await small();
        const answers = await Promise.all(batches);
        for (const a of answers) assert.equal(JSON.parse(a.body).error.code, -32600);
        assert.ok(smallMs < 2000, `the small call took ${smallMs} ms`);
        return `each refused in ${answers.map((a) => a.ms).join('/')} ms; a single ptimer.list meanwhile: ${smallMs} ms`;
      }),
    );

    results.push(
      await measure(child, 'a batch of 1000 ptimer.list (the most a batch may hold)', async () => {
        const res = await post(child.port, listBatch(1000));
        assert.match(JSON.parse(res.body).error.message, /would be larger than 4194304 bytes \(4 MiB\)/);
        return `answered with one -32600 error (answer over 4 MiB) in ${res.ms} ms`;
      }),
    );

    results.push(
      await measure(child, '4 batches of 1000 ptimer.list in parallel, and a small call', async () => {
        const batches = Array.from({ length: 4 }, () => post(child.port, listBatch(1000)));
        const smallMs = await small();
        const answers = await Promise.all(batches);
        for (const a of answers) assert.equal(JSON.parse(a.body).error.code, -32600);
        assert.ok(smallMs < 2000, `the small call took ${smallMs} ms`);
        return `each refused in ${answers.map((a) => a.ms).join('/')} ms; a single ptimer.list meanwhile: ${smallMs} ms`;
      }),
    );

    results.push(
      await measure(child, 'a socket client that sends ptimer.list without end and never reads', async () => {
        const socket = connect(child.socketPath);
        socket.on('error', () => {});
        socket.pause();
        let written = 0;
        const t0 = Date.now();
        const gone = closeOf(socket);
        const writeMore = (): void => {
          while (!socket.destroyed && written < 1e6 && socket.write(`${LIST}\n`)) written++;
        };
        socket.on('drain', writeMore);
        socket.on('connect', writeMore);
        await gone;
        const ms = Date.now() - t0;
        assert.ok(ms < 20_000, `closed after ${ms} ms`);
        await waitFor(
          'the socket connection to be gone',
          async () => (await child.ask('stats')).socket === 0,
          5000,
          20,
        );
        assert.match(child.closedReasons.at(-1) ?? '', /did not read its answers for 5000 ms/);
        return `the server stopped reading after ${written} requests sent, closed the client after ${ms} ms`;
      }),
    );

    results.push(
      await measure(child, '200 slowloris connections (headers a byte a second)', async () => {
        const sockets: Socket[] = [];
        const closes: Array<Promise<unknown>> = [];
        const t0 = Date.now();
        let most = 0;
        const watch = setInterval(() => void child.ask('stats').then((s) => (most = Math.max(most, s.http))), 50);
        const trickle = setInterval(() => {
          for (const s of sockets) if (s.writable) s.write('a');
        }, 1000);
        try {
          for (let i = 0; i < 200; i++) {
            const s = connect(child.port, '127.0.0.1');
            s.on('error', () => {});
            s.write('POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
            sockets.push(s);
            closes.push(closeOf(s));
          }
          await Promise.all(closes);
        } finally {
          clearInterval(trickle);
          clearInterval(watch);
        }
        const ms = Date.now() - t0;
        assert.ok(ms < 20_000, `all closed after ${ms} ms`);
        // Past 64, newcomers in their 1 s grace are admitted up to the hard cap (8 x 64) and idle ones shed for them.
        assert.ok(most <= 512, `${most} connections held at once`);
        assert.equal((await post(child.port, LIST)).status, 200);
        return `at most ${most} held at once (64, plus newcomers in their grace up to 512; the idlest shed), all closed after ${ms} ms; a request after: 200`;
      }),
    );

    results.push(
      await measure(child, 'an HTTP client that pipelines ptimer.list and never reads', async () => {
        const socket = connect(child.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.pause();
        const gone = closeOf(socket);
        const t0 = Date.now();
        socket.write(
          `POST /RPC HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`.repeat(2000),
        );
        await waitFor(
          'the server to close it',
          async () => (await child.ask('stats')).http === 0 && Date.now() - t0 > 100,
          20_000,
          20,
        );
        const ms = Date.now() - t0;
        socket.destroy();
        await gone;
        return `closed after ${ms} ms`;
      }),
    );
  } finally {
    child.proc.kill();
  }
  for (const r of results) {
    const idle = Math.min(r.idle, ...results.map((x) => x.idle));
    assert.ok(r.peak < 2 * idle, `${r.name}: peak ${mb(r.peak)} is not below 2x the idle ${mb(idle)}`);
    assert.ok(r.after < 2 * idle, `${r.name}: after ${mb(r.after)} is not below 2x the idle ${mb(idle)}`);
  }
});
