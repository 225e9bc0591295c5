/**
 * End to end with Kamailio's own tools, the real binaries (Debian's kamailio package: kamcmd
 * and kamctl; no Kamailio server involved): `ptimer run --binrpc unix:... --fifo ...
 * --dgram ...` driven by kamcmd over BINRPC and by `kamctl rpc` over the jsonrpcs FIFO, and
 * the datagram socket driven by a datagram client. The operator's commands of the reference's
 * queue-control example go through kamcmd. Malformed BINRPC gets faults or a closed
 * connection and the server lives on.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Server, freePort, rpcHttp, runCli, waitFor, workersOf } from '../fixtures/cli/harness.js';
import {
  BINRPC_FAULT,
  BINRPC_REPLY,
  BINRPC_REQUEST,
  decodeHeader,
  decodeValues,
  encodePacket,
} from '../../src/rpc/binrpc-codec.js';
import { startBinrpcServer } from '../../src/rpc/binrpc-server.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startFifoServer, writeReply } from '../../src/rpc/jsonrpcs-fifo.js';
import { startDgramServer } from '../../src/rpc/jsonrpcs-dgram.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { runTool } from '../fixtures/kamailio-tools/run-tool.js';
import { parseKamcmd } from '../fixtures/kamailio-tools/kamcmd-output.js';

const CONFIG = 'test/fixtures/kamailio-tools/tools.config.ts';
// Where Debian's kamailio package puts them (/usr/sbin is not on every PATH).
const KAMCMD_PATH = '/usr/sbin/kamcmd';
const KAMCTL_PATH = '/usr/sbin/kamctl';

/**
 * A Kamailio tool, or a failure in one line naming it. Only the tests that drive kamcmd or
 * kamctl ask for them (CI installs both and so runs every test); the server, the socket modes,
 * malformed BINRPC and the FIFO's rules are tested without them.
 */
function tool(path: string): string {
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: this test drives Kamailio's real tool; install Debian's kamailio package (.ci/run does)`,
    );
  return path;
}
const kamcmdBin = () => tool(KAMCMD_PATH);
const kamctlBin = () => tool(KAMCTL_PATH);
// Short, in /tmp: a Unix socket path has at most 107 bytes.
const dir = mkdtempSync('/tmp/ptimer-kt-');
const CTL = join(dir, 'ptimer_ctl');
const FIFO = join(dir, 'ptimer_rpc.fifo');
const DGRAM = join(dir, 'ptimer_rpc.sock');
const HOME = join(dir, 'home');
const servers: Server[] = [];
let server: Server;
let httpPort: number;

const run = runTool;

/** kamcmd -s unix:CTL ARGS; kamcmd prints faults as "error: CODE - MESSAGE" and exits 0 either way. */
async function kamcmd(...args: string[]): Promise<string> {
  const r = await run(kamcmdBin(), ['-s', `unix:${CTL}`, ...args]);
  if (r.code !== 0) throw new Error(`kamcmd ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function kamcmdList(): Promise<Record<string, any>> {
  const [list] = parseKamcmd(await kamcmd('ptimer.list'));
  return list as Record<string, any>;
}

async function kamctl(...args: string[]): Promise<any> {
  const r = await run(kamctlBin(), ['rpc', ...args], { HOME });
  if (r.code !== 0) throw new Error(`kamctl rpc ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`kamctl rpc ${args.join(' ')} printed no JSON: ${r.stdout} ${r.stderr}`);
  }
}

before(async () => {
  // kamctl reads /etc/kamailio/kamctlrc, then ~/.kamctlrc: a HOME of the test's own points it at ptimer.
  mkdirSync(HOME);
  writeFileSync(join(HOME, '.kamctlrc'), `RPCFIFOPATH=${FIFO}\n`);
  httpPort = await freePort();
  server = new Server([
    CONFIG,
    '--http',
    `127.0.0.1:${httpPort}`,
    '--binrpc',
    `unix:${CTL}`,
    '--fifo',
    FIFO,
    '--dgram',
    DGRAM,
    '--log-level',
    'warn',
  ]);
  servers.push(server);
  await waitFor(
    'ptimer run to answer',
    async () => {
      if (!server.running) throw new Error(`ptimer run exited: ${server.stderr}`);
      const list = (await rpcHttp(httpPort, 'ptimer.list')).result as Array<{ name: string }> | undefined;
      return list?.some((t) => t.name === 't1') && existsSync(CTL);
    },
    30_000,
  );
});

after(async () => {
  for (const s of servers) await s.kill();
  rmSync(dir, { recursive: true, force: true });
});

const require_ = createRequire(import.meta.url);

/** The given fields of an answer (answers may carry more as the engine grows). */
function pick(o: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, (o as Record<string, unknown>)[k]]));
}

test('the socket, the FIFO and the datagram socket are mode 0600', () => {
  for (const p of [CTL, FIFO, DGRAM]) assert.equal(statSync(p).mode & 0o777, 0o600, p);
  assert.ok(statSync(CTL).isSocket());
  assert.ok(statSync(FIFO).isFIFO());
  assert.ok(statSync(DGRAM).isSocket());
});

test("kamcmd ptimer.list: the reference's shape (croute, paused 0/1) beside ptimer's own fields, printed readably", async () => {
  const out = await kamcmd('ptimer.list');
  assert.match(out, /^\{\n\tt1: \{\n\t\tname: t1\n\t\ttype: 1\n\t\tinterval: 50ms\n\t\tnworkers: 2\n/);
  assert.match(out, /\n\t\t\t\tcroute: loop\n/);
  const list = await kamcmdList();
  assert.deepEqual(Object.keys(list), ['t1', 'normal_timer', 'holiday_timer']);
  assert.equal(list.t1.start, 'T1_START');
  assert.equal(list.t1.workers.length, 2);
  const w = list.t1.workers[1];
  for (const field of [
    'worker',
    'pid',
    'ntasks',
    'tasks',
    'nslices',
    'slice',
    'paused',
    'croute',
    'iterations',
    'overruns',
    'lateness',
  ]) {
    assert.ok(field in w, `${field} in ${JSON.stringify(w)}`);
  }
  assert.equal(w.worker, 1);
  assert.equal(w.paused, 0);
  assert.equal(w.pid, server.child.pid);
});

test('kamcmd: pause one worker, continue, start, end; the list shows each change', async () => {
  const paused = parseKamcmd(await kamcmd('ptimer.pause', 't1', '1'))[0] as any;
  assert.deepEqual(pick(paused, ['timer', 'command', 'worker']), { timer: 't1', command: 'pause', worker: 1 });
  assert.deepEqual(
    paused.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 1, route: 'loop', paused: 1 }],
  );
  let list = await kamcmdList();
  assert.equal(list.t1.workers[1].paused, 1);
  assert.equal(list.t1.workers[0].paused, 0, 'the other worker runs on');
  assert.equal((await workersOf(httpPort, 't1'))[1].paused, true, 'HTTP sees the same state');

  await kamcmd('ptimer.continue', 't1', '1');
  list = await kamcmdList();
  assert.equal(list.t1.workers[1].paused, 0);

  const started = parseKamcmd(await kamcmd('ptimer.start', 't1', '0'))[0] as any;
  assert.equal(started.command, 'start');
  assert.equal(started.workers[0].paused, 0);

  const ended = parseKamcmd(await kamcmd('ptimer.end', 't1', '0'))[0] as any;
  assert.deepEqual(
    ended.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 0, route: 'none', paused: 1 }],
  );
  list = await kamcmdList();
  assert.equal(list.t1.workers[0].croute, 'none');
  assert.match(await kamcmd('ptimer.continue', 't1', '0'), /^error: 400 - ptimer\.continue: .*start/);
  await kamcmd('ptimer.start', 't1', '0');
  list = await kamcmdList();
  assert.equal(list.t1.workers[0].croute, 'loop');
  assert.equal(list.t1.workers[0].paused, 0);
});

test("kamcmd: a worker out of range is 400, an unknown timer 404, an unknown method ctl's 500", async () => {
  assert.equal(
    await kamcmd('ptimer.pause', 't1', '7'),
    'error: 400 - ptimer.pause: worker 7 is out of range: timer "t1" has 2 workers (0-1)\n',
  );
  assert.match(await kamcmd('--', 'ptimer.pause', 't1', '-1'), /^error: 400 - /);
  assert.equal(await kamcmd('ptimer.pause', 'nope'), 'error: 404 - ptimer.pause: unknown timer "nope"\n');
  assert.equal(await kamcmd('core.psx'), 'error: 500 - command core.psx not found (system.listMethods lists them)\n');
  // kamcmd sends "s:1" as the string "1": taken as the worker index.
  assert.match(await kamcmd('ptimer.pause', 't1', 's:1'), /paused: 1/);
  await kamcmd('ptimer.continue', 't1', '1');
});

test('kamcmd interactive: several commands on one connection', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(kamcmdBin(), ['-s', `unix:${CTL}`], { timeout: 15_000 }, (err: Error | null, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    child.stdin!.end('ptimer.pause t1 0\nptimer.list\nptimer.continue t1 0\nquit\n');
  });
  const answers = out.split('kamcmd> ').slice(1);
  assert.equal(answers.length, 4, out);
  assert.match(answers[0]!, /command: pause[\s\S]*paused: 1/);
  assert.match(answers[1]!, /^ptimer\.list\n\{\n\tt1: \{/);
  assert.match(answers[2]!, /command: continue[\s\S]*paused: 0/);
});

test('kamcmd ls and help read system.listMethods and system.methodHelp', async () => {
  const ls = (await kamcmd('ls')).trim().split('\n');
  for (const m of [
    'ptimer.list',
    'ptimer.pause',
    'ptimer.continue',
    'ptimer.start',
    'ptimer.loop',
    'ptimer.end',
    'system.listMethods',
    'system.methodHelp',
  ]) {
    assert.ok(ls.includes(m), `${m} in ${ls.join(',')}`);
  }
  assert.match(await kamcmd('help', 'ptimer.end'), /^ptimer\.end\(timer \[, worker.*\]\): Run the end route/);
  assert.match(await kamcmd('help'), /^ptimer\.list\n[\s\S]*\nalias: ls\n/);
});

test("the reference's queue-control commands (section 7.4) through kamcmd switch the routing", async () => {
  const paused = async () => {
    const l = await kamcmdList();
    return { normal: l.normal_timer.workers[0].paused, holiday: l.holiday_timer.workers[0].paused };
  };
  assert.deepEqual(await paused(), { normal: 0, holiday: 0 });
  await kamcmd('ptimer.pause', 'normal_timer');
  await kamcmd('ptimer.continue', 'holiday_timer');
  assert.deepEqual(await paused(), { normal: 1, holiday: 0 });
  const before = (await kamcmdList()).holiday_timer.workers[0].iterations as number;
  await waitFor(
    'holiday_timer to keep looping',
    async () => (await kamcmdList()).holiday_timer.workers[0].iterations > before,
  );
  // ... and back:
  await kamcmd('ptimer.pause', 'holiday_timer');
  await kamcmd('ptimer.continue', 'normal_timer');
  assert.deepEqual(await paused(), { normal: 0, holiday: 1 });
});

test('kamctl rpc over the jsonrpcs FIFO: list, pause one worker, continue, start, end, and the errors', async () => {
  const list = await kamctl('ptimer.list');
  assert.equal(list.jsonrpc, '2.0');
  assert.deepEqual(
    list.result.map((t: { name: string }) => t.name),
    ['t1', 'normal_timer', 'holiday_timer'],
  );
  assert.equal(typeof list.id, 'number');

  const paused = await kamctl('ptimer.pause', 't1', '1');
  assert.deepEqual(pick(paused.result, ['timer', 'command', 'worker']), { timer: 't1', command: 'pause', worker: 1 });
  assert.deepEqual(
    paused.result.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 1, route: 'loop', paused: true }],
  );
  assert.equal((await workersOf(httpPort, 't1'))[1].paused, true);
  assert.equal((await kamctl('ptimer.continue', 't1', '1')).result.workers[0].paused, false);
  assert.equal((await kamctl('ptimer.start', 't1')).result.workers.length, 2);
  assert.deepEqual(
    (await kamctl('ptimer.end', 't1', '1')).result.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 1, route: 'none', paused: true }],
  );
  assert.equal((await kamctl('ptimer.start', 't1', '1')).result.workers[0].route, 'loop');

  const range = await kamctl('ptimer.pause', 't1', '9');
  assert.deepEqual(range.error, {
    code: 400,
    message: 'ptimer.pause: worker 9 is out of range: timer "t1" has 2 workers (0-1)',
  });
  assert.equal((await kamctl('ptimer.pause', 'nope')).error.code, 404);
  assert.equal((await kamctl('core.psx')).error.code, -32601);
  assert.ok((await kamctl('system.listMethods')).result.includes('ptimer.loop'));
});

test('the jsonrpcs datagram socket answers a datagram client at its bound address', async () => {
  const ud = require_('unix-dgram') as {
    createSocket(
      type: 'unix_dgram',
      listener: (buf: Buffer) => void,
    ): {
      bind(path: string): void;
      send(buf: Buffer, offset: number, length: number, path: string): void;
      close(): void;
    };
  };
  const ask = (request: object, to = DGRAM) =>
    new Promise<any>((resolve, reject) => {
      const me = join(dir, `c${Math.random().toString(36).slice(2, 8)}`);
      const timer = setTimeout(() => reject(new Error('no datagram answer within 10 s')), 10_000);
      const s = ud.createSocket('unix_dgram', (buf) => {
        clearTimeout(timer);
        s.close();
        rmSync(me, { force: true });
        resolve(JSON.parse(buf.toString('utf8')));
      });
      s.bind(me);
      const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...request }));
      s.send(b, 0, b.length, to);
    });
  const big = join(dir, 'big.sock');
  const server2 = await startDgramServer({
    path: big,
    dispatcher: new RpcDispatcher(new FakeControl([{ name: 'x', nworkers: 400 }])),
  });
  try {
    const tooBig = await ask({ method: 'ptimer.list', id: 'big' }, big);
    assert.equal(tooBig.id, 'big');
    assert.match(
      tooBig.error.message,
      /^the answer is \d+ bytes, more than one datagram carries \(65456\); ask over --fifo, --socket or HTTP$/,
    );
  } finally {
    await server2.close();
  }
  const list = await ask({ method: 'ptimer.list', id: 'a' });
  assert.equal(list.id, 'a');
  assert.equal(list.result[0].name, 't1');
  assert.equal((await ask({ method: 'ptimer.pause', params: ['t1', 5], id: 2 })).error.code, 400);
  assert.equal((await ask({ method: 'ptimer.pause', params: ['t1', 0], id: 3 })).result.workers[0].paused, true);
  assert.equal((await ask({ method: 'ptimer.continue', params: ['t1', 0], id: 4 })).result.workers[0].paused, false);
});

test('the FIFO: a reply_name leaving the reply directory is not run; a reply FIFO must be a FIFO, not a link, and read', async () => {
  const before = (await workersOf(httpPort, 'holiday_timer'))[0].paused;
  writeFileSync(
    FIFO,
    '{"jsonrpc": "2.0", "method": "ptimer.pause", "params": ["holiday_timer"], "reply_name": "../etc/x", "id": 1}\n',
  );
  writeFileSync(FIFO, '{"jsonrpc": "2.0", "method": "ptimer.pause", "params": ["holiday_timer"], "id": 2}\n');
  // A request after them is answered, so the two before it have been read (and dropped).
  assert.ok((await kamctl('system.listMethods')).result.length > 0);
  assert.equal((await workersOf(httpPort, 'holiday_timer'))[0].paused, before, 'neither request ran');

  const file = join(dir, 'plain');
  writeFileSync(file, '');
  assert.equal(await writeReply(file, 'x', 100, 1000), 'it is not a FIFO');
  const link = join(dir, 'link');
  symlinkSync(file, link);
  assert.equal(await writeReply(link, 'x', 100, 1000), 'it is a symbolic link');
  const lonely = join(dir, 'lonely');
  execFileSync('mkfifo', [lonely]);
  assert.equal(await writeReply(lonely, 'x', 100, 1000), 'nobody read it within 100 ms');
  assert.match((await writeReply(join(dir, 'missing'), 'x', 100, 1000))!, /does not exist/);
});

test('the FIFO path: one another process reads is refused; one nobody reads is replaced', async () => {
  const dispatcher = new RpcDispatcher(new FakeControl([{ name: 'x', nworkers: 1 }]));
  await assert.rejects(startFifoServer({ path: FIFO, dispatcher }), /another process is reading this FIFO/);
  const stalePath = join(dir, 'stale.fifo');
  execFileSync('mkfifo', [stalePath]);
  const stale: string[] = [];
  const f = await startFifoServer({ path: stalePath, dispatcher, onStale: (p) => stale.push(p) });
  assert.deepEqual(stale, [stalePath]);
  assert.equal(statSync(stalePath).mode & 0o777, 0o600);
  await f.close();
  assert.equal(existsSync(stalePath), false);
  const notFifo = join(dir, 'regular');
  writeFileSync(notFifo, 'keep me');
  await assert.rejects(startFifoServer({ path: notFifo, dispatcher }), /exists and is not a FIFO; not replacing it/);
});

test('the FIFO runs at most maxInFlight requests at once; the rest wait their turn, none is lost', async () => {
  const control = new FakeControl([{ name: 'x', nworkers: 1 }]);
  control.delayMs = 200;
  let now = 0;
  let most = 0;
  const counting = {
    list: () => control.list(),
    pause: async (t: string, w?: number) => {
      most = Math.max(most, ++now);
      try {
        return await control.pause(t, w);
      } finally {
        now--;
      }
    },
  } as unknown as FakeControl;
  const path = join(dir, 'bounded.fifo');
  const f = await startFifoServer({ path, dispatcher: new RpcDispatcher(counting), replyDir: dir, maxInFlight: 2 });
  try {
    const names = Array.from({ length: 6 }, (_, i) => `bounded_reply_${i}`);
    for (const n of names) execFileSync('mkfifo', [join(dir, n)]);
    const answers = names.map((n) => run('cat', [join(dir, n)]));
    writeFileSync(
      path,
      names
        .map((n, i) => JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['x'], reply_name: n, id: i }))
        .join('\n'),
    );
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((g) => JSON.parse(g.stdout).id),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(most, 2);
  } finally {
    await f.close();
  }
});

/** Writes raw bytes to the BINRPC socket; collects what comes back until the server closes (or `idleMs` of quiet). */
function rawBinrpc(
  bytes: Buffer,
  opts: { end?: boolean; idleMs?: number } = {},
): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(CTL);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), opts.idleMs ?? 1500);
    };
    s.on('connect', () => {
      s.write(bytes);
      if (opts.end) s.end();
      arm();
    });
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      arm();
    });
    s.on('close', () => finish(true));
    s.on('error', reject);
  });
}

function faultOf(data: Buffer): { code: number; message: string } {
  const h = decodeHeader(data)!;
  assert.equal(h.type, BINRPC_FAULT);
  const [code, message] = decodeValues(data.subarray(h.headerLength, h.headerLength + h.bodyLength)) as Array<{
    value: unknown;
  }>;
  return { code: code!.value as number, message: message!.value as string };
}

test('malformed BINRPC: a fault, or a closed connection; never a crash', async () => {
  // Not BINRPC at all: a fault, then the connection is closed (no telling where a packet starts).
  const junk = await rawBinrpc(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  assert.equal(junk.closed, true);
  assert.match(faultOf(junk.data).message, /^bad request: not a BINRPC packet: the first byte is 0x47/);
  // A header announcing more than the limit.
  const huge = await rawBinrpc(Buffer.from([0xa1, 0x0c, 0x7f, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(huge.closed, true);
  assert.match(faultOf(huge.data).message, /over the limit of 65535/);
  // Broken records in a well-framed packet: a 400 fault, and the connection serves the next packet.
  const broken = Buffer.from([0xa1, 0x00, 0x02, 0x05, 0x71, 0x61]);
  const good = encodePacket(BINRPC_REQUEST, 6, [{ kind: 'str', value: 'system.listMethods' }]);
  const both = await rawBinrpc(Buffer.concat([broken, good]));
  const first = faultOf(both.data);
  assert.equal(first.code, 400);
  const h1 = decodeHeader(both.data)!;
  const rest = both.data.subarray(h1.headerLength + h1.bodyLength);
  const h2 = decodeHeader(rest)!;
  assert.equal(h2.type, BINRPC_REPLY);
  assert.equal(h2.cookie, 6);
  // A packet cut short, then the end of the stream: closed without an answer.
  const cut = encodePacket(BINRPC_REQUEST, 7, [{ kind: 'str', value: 'ptimer.list' }]).subarray(0, 8);
  const truncated = await rawBinrpc(cut, { end: true });
  assert.equal(truncated.closed, true);
  assert.equal(truncated.data.length, 0);
  // Random bytes after a valid magic byte.
  for (let i = 0; i < 20; i++) {
    const noise = Buffer.concat([
      Buffer.from([0xa1]),
      Buffer.from(Array.from({ length: 30 }, () => Math.floor(Math.random() * 256))),
    ]);
    await rawBinrpc(noise, { end: true, idleMs: 500 });
  }
  assert.ok(server.running, server.stderr);
  // Still serving BINRPC (asked without kamcmd, so that this test needs no Kamailio tool).
  const still = await rawBinrpc(encodePacket(BINRPC_REQUEST, 8, [{ kind: 'str', value: 'ptimer.list' }]), {
    end: true,
  });
  assert.equal(decodeHeader(still.data)?.type, BINRPC_REPLY, 'the server still answers a BINRPC request');
});

test('past maxConnections BINRPC connections, the idlest is shed for kamcmd, which is answered', async () => {
  const path = join(dir, 'limit_ctl');
  const drops: Array<string | undefined> = [];
  const s = await startBinrpcServer({
    address: { kind: 'unix', path },
    dispatcher: new RpcDispatcher(new FakeControl([{ name: 'x', nworkers: 1 }])),
    maxConnections: 2,
    onDrop: (_reason, kind) => drops.push(kind),
  });
  try {
    const open = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<ReturnType<typeof connect>>((res) => {
            const c = connect(path, () => res(c));
            c.on('error', () => undefined);
          }),
      ),
    );
    const firstClosed = new Promise((res) => open[0]!.once('close', res));
    const openedAt = Date.now();
    // A new connection's grace (its time to send a request) is 1 s; past it, idle ones are shed.
    await waitFor('the idle connections to be past their grace', () => Date.now() - openedAt > 1100);
    const r = await run(kamcmdBin(), ['-s', `unix:${path}`, 'ptimer.list']);
    assert.match(r.stdout, /x: \{/, `kamcmd while two idle ones are open: ${JSON.stringify(r)}`);
    await firstClosed; // the idlest (the oldest) went
    assert.equal(open[1]!.destroyed, false);
    assert.deepEqual(drops, ['shed']);
    for (const c of open) c.destroy();
  } finally {
    await s.close();
  }
  assert.equal(existsSync(path), false, 'the socket file is removed on close');
});

test('--binrpc tcp: loopback works with kamcmd -s tcp:HOST:PORT; any other address is refused, saying why', async () => {
  const refused = await runCli(['run', CONFIG, '--binrpc', 'tcp:0.0.0.0:2049']);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /^ptimer run: --binrpc tcp:0\.0\.0\.0:2049: refused, 0\.0\.0\.0 is not a loopback address: BINRPC has no authentication, so ptimer serves it on loopback only/m,
  );
  const port = await freePort();
  const tcp = new Server([CONFIG, '--no-http', '--binrpc', `tcp:127.0.0.1:${port}`, '--log-level', 'warn']);
  servers.push(tcp);
  const out = await waitFor('kamcmd over TCP', async () => {
    if (!tcp.running) throw new Error(`ptimer run exited: ${tcp.stderr}`);
    const r = await run(kamcmdBin(), ['-s', `tcp:127.0.0.1:${port}`, 'ptimer.pause', 'holiday_timer']);
    return r.stdout.includes('command: pause') ? r.stdout : '';
  });
  assert.match(out, /paused: 1/);
  tcp.child.kill('SIGTERM');
  assert.deepEqual(await tcp.waitForExit(), { code: 0, signal: null });
});

test('on SIGTERM the socket, FIFO and datagram files are removed', async () => {
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  for (const p of [CTL, FIFO, DGRAM]) assert.equal(existsSync(p), false, p);
});
