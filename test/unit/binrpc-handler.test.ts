/**
 * BINRPC requests through the RpcDispatcher, with a fake control (no threads, no sockets):
 * the reference's list shape and codes, kamcmd's guessed param types, faults for bad
 * packets; and the framer that cuts a byte stream into packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BINRPC_FAULT,
  BINRPC_REPLY,
  BINRPC_REQUEST,
  BinrpcError,
  decodeHeader,
  decodeValues,
  encodePacket,
  type BinrpcValue,
} from '../../src/rpc/binrpc-codec.js';
import { handleBinrpcRequest } from '../../src/rpc/binrpc-handler.js';
import { BinrpcFramer, formatBinrpcAddress, parseBinrpcAddress } from '../../src/rpc/binrpc-server.js';
import { coerceTimerParams, resultRecords, toBinrpc } from '../../src/rpc/binrpc-values.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

const str = (value: string): BinrpcValue => ({ kind: 'str', value });
const int = (value: number): BinrpcValue => ({ kind: 'int', value });

function setup() {
  const control = new FakeControl([
    { name: 't1', nworkers: 2 },
    { name: 'solo', nworkers: 1 },
  ]);
  const dispatcher = new RpcDispatcher(control);
  /** Sends a request with these records; returns the reply's type and records. */
  const call = async (records: BinrpcValue[], cookie = 0x1234) => {
    const packet = encodePacket(BINRPC_REQUEST, cookie, records);
    const header = decodeHeader(packet)!;
    const reply = await handleBinrpcRequest(dispatcher, header, packet.subarray(header.headerLength));
    const h = decodeHeader(reply)!;
    assert.equal(h.cookie, cookie, 'a reply carries the request cookie');
    return { type: h.type, records: decodeValues(reply.subarray(h.headerLength)) };
  };
  const fault = async (records: BinrpcValue[]) => {
    const r = await call(records);
    assert.equal(r.type, BINRPC_FAULT, JSON.stringify(r.records));
    const [code, message] = r.records as unknown as [{ value: number }, { value: string }];
    return { code: code.value, message: message.value };
  };
  return { control, call, fault };
}

/** The given fields of an answer (answers may carry more as the engine grows). */
function pick(o: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, (o as Record<string, unknown>)[k]]));
}

/** A struct's named members as an object (for reading replies). */
function plain(v: BinrpcValue): unknown {
  if (v.kind === 'struct') {
    if (v.members.every((m) => m.name !== undefined))
      return Object.fromEntries(v.members.map((m) => [m.name, plain(m.value)]));
    return v.members.map((m) => plain(m.value));
  }
  if (v.kind === 'array') return v.items.map(plain);
  return 'value' in v ? v.value : null;
}

test("ptimer.list: one member per timer, as the reference, with croute and paused 0/1 beside ptimer's fields", async () => {
  const { call, control } = setup();
  control.timers[0]!.workers[1]!.paused = true;
  const r = await call([str('ptimer.list')]);
  assert.equal(r.type, BINRPC_REPLY);
  assert.equal(r.records.length, 1);
  const list = plain(r.records[0]!) as Record<string, any>;
  assert.deepEqual(Object.keys(list), ['t1', 'solo']);
  const t1 = list.t1;
  assert.equal(t1.name, 't1');
  assert.equal(t1.type, 1);
  assert.equal(t1.interval, '100ms');
  assert.equal(t1.nworkers, 2);
  assert.equal(t1.start, '', 'no start route: an empty name, as the reference lists it');
  assert.equal(t1.loop, 'LOOP');
  assert.equal(t1.workers.length, 2);
  const [w0, w1] = t1.workers;
  for (const field of ['worker', 'pid', 'ntasks', 'tasks', 'nslices', 'slice', 'paused', 'croute'])
    assert.ok(field in w0, field);
  assert.equal(w0.croute, 'loop');
  assert.equal(w0.route, 'loop');
  assert.equal(w0.paused, 0);
  assert.equal(w1.paused, 1);
  assert.equal(w1.iterations, 20);
  assert.deepEqual(w1.lateness, { p50: 52, p99: 140, max: 1830, count: 20, sum: 1200 });
});

test("control commands answer the touched workers; kamcmd's guessed types are taken as the reference takes them", async () => {
  const { call, control } = setup();
  const r = await call([str('ptimer.pause'), str('t1'), int(1)]);
  assert.equal(r.type, BINRPC_REPLY);
  const paused = plain(r.records[0]!) as any;
  assert.deepEqual(pick(paused, ['timer', 'command', 'worker']), { timer: 't1', command: 'pause', worker: 1 });
  assert.deepEqual(
    paused.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 1, route: 'loop', paused: 1 }],
  );
  // A numeric string worker (kamcmd s:1, or another client) is the index.
  await call([str('ptimer.continue'), str('t1'), str('1')]);
  // All workers: the null worker is left out of the struct.
  const all = plain((await call([str('ptimer.end'), str('solo')])).records[0]!) as any;
  assert.equal('worker' in all, false, 'all workers: the null worker is left out of the struct');
  assert.deepEqual(pick(all, ['timer', 'command']), { timer: 'solo', command: 'end' });
  assert.deepEqual(
    all.workers.map((w: object) => pick(w, ['worker', 'route', 'paused'])),
    [{ worker: 0, route: 'none', paused: 1 }],
  );
  // force, the third param of start and end, as kamcmd sends it: the word or an int.
  for (const force of [str('force'), int(1), int(0)]) {
    assert.equal(
      (await call([str('ptimer.start'), str('t1'), int(0), force])).type,
      BINRPC_REPLY,
      JSON.stringify(force),
    );
  }
  const bad = await call([str('ptimer.start'), str('t1'), int(0), str('maybe')]);
  assert.equal(bad.type, BINRPC_FAULT);
  assert.deepEqual(bad.records[0], int(400));
  control.calls.splice(3);
  assert.deepEqual(control.calls, [
    { command: 'pause', timer: 't1', worker: 1 },
    { command: 'continue', timer: 't1', worker: 1 },
    { command: 'end', timer: 'solo' },
  ]);
});

test('errors are faults with the reference\'s codes; an unknown method is ctl\'s 500 "command ... not found"', async () => {
  const { fault } = setup();
  assert.deepEqual(await fault([str('ptimer.pause'), str('t1'), int(5)]), {
    code: 400,
    message: 'ptimer.pause: worker 5 is out of range: timer "t1" has 2 workers (0-1)',
  });
  assert.equal((await fault([str('ptimer.pause'), str('t1'), int(-1)])).code, 400);
  assert.equal((await fault([str('ptimer.pause'), str('t1'), { kind: 'double', value: 1.5 }])).code, 400);
  assert.equal((await fault([str('ptimer.pause'), str('t1'), str('one')])).code, 400);
  assert.equal((await fault([str('ptimer.pause')])).code, 400);
  assert.deepEqual(await fault([str('ptimer.pause'), str('nope')]), {
    code: 404,
    message: 'ptimer.pause: unknown timer "nope"',
  });
  assert.equal((await fault([str('ptimer.pause'), int(42)])).code, 404, 'a number as the timer is taken as its name');
  assert.deepEqual(await fault([str('core.psx')]), {
    code: 500,
    message: 'command core.psx not found (system.listMethods lists them)',
  });
  assert.equal((await fault([str('ptimer.list'), int(1)])).code, 400);
});

test('system.listMethods is one str per method (kamcmd ls/help read it so); system.methodHelp a str', async () => {
  const { call, fault } = setup();
  const ls = await call([str('system.listMethods')]);
  assert.ok(ls.records.length >= 8);
  assert.ok(ls.records.every((r) => r.kind === 'str'));
  assert.ok(ls.records.some((r) => r.kind === 'str' && r.value === 'ptimer.pause'));
  const help = await call([str('system.methodHelp'), str('ptimer.pause')]);
  assert.equal(help.records.length, 1);
  assert.match((help.records[0] as { value: string }).value, /^ptimer\.pause\(timer \[, worker\]\): Pause/);
  assert.equal((await fault([str('system.methodHelp'), str('nope.nope')])).code, 404);
});

test('bad requests get a 400 fault: no method, a method that is not a str, broken records, a reply sent as a request', async () => {
  const { fault, control } = setup();
  const dispatcher = new RpcDispatcher(control);
  const raw = async (type: number, body: Buffer) => {
    const reply = await handleBinrpcRequest(
      dispatcher,
      { type: type as 0, bodyLength: body.length, cookie: 9, headerLength: 4 },
      body,
    );
    const h = decodeHeader(reply)!;
    const [code, message] = decodeValues(reply.subarray(h.headerLength)) as unknown as [
      { value: number },
      { value: string },
    ];
    return { type: h.type, cookie: h.cookie, code: code.value, message: message.value };
  };
  assert.match((await fault([])).message, /no method name/);
  assert.match((await fault([int(3)])).message, /the first record must be a str naming the method, got int/);
  const broken = await raw(BINRPC_REQUEST, Buffer.from([0x71, 0x61]));
  assert.deepEqual([broken.type, broken.cookie, broken.code], [BINRPC_FAULT, 9, 400]);
  assert.match(broken.message, /^bad request: bad record at byte 0 of the body: a str needs 7 bytes/);
  assert.match((await raw(BINRPC_REPLY, Buffer.alloc(0))).message, /packet type 1 is not a request/);
});

test("values map as Kamailio's RPC layer maps them", () => {
  assert.deepEqual(resultRecords(['a', 'b']), [str('a'), str('b')]);
  assert.deepEqual(resultRecords(null), []);
  assert.deepEqual(resultRecords('x'), [str('x')]);
  assert.deepEqual(toBinrpc(true), int(1));
  assert.deepEqual(toBinrpc(2 ** 31), { kind: 'double', value: 2 ** 31 });
  assert.deepEqual(toBinrpc(0.5), { kind: 'double', value: 0.5 });
  assert.deepEqual(toBinrpc(1e300), str('1e+300'));
  assert.deepEqual(toBinrpc(Number.NaN), str('NaN'));
  assert.deepEqual(toBinrpc({ a: 1, b: null, c: [1, null, 'x'] }), {
    kind: 'struct',
    members: [
      { name: 'a', value: int(1) },
      { name: 'c', value: { kind: 'struct', members: [{ value: int(1) }, { value: str('x') }] } },
    ],
  });
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = { d: deep };
  assert.throws(() => toBinrpc(deep), BinrpcError);
  assert.deepEqual(coerceTimerParams([42, '3']), ['42', 3]);
  assert.deepEqual(coerceTimerParams(['t1', ' 1 ']), ['t1', 1]);
  assert.deepEqual(coerceTimerParams(['t1', 'x1']), ['t1', 'x1']);
  assert.deepEqual(coerceTimerParams(['t1', 1.5]), ['t1', 1.5]);
});

test('the framer cuts packets from any split of the stream, and refuses what is not BINRPC or too large', () => {
  const a = encodePacket(BINRPC_REQUEST, 1, [str('ptimer.list')]);
  const b = encodePacket(BINRPC_REQUEST, 0x01020304, [str('ptimer.pause'), str('t1'), int(1)]);
  const stream = Buffer.concat([a, b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = new BinrpcFramer(65535);
    const got: number[] = [];
    for (const piece of [stream.subarray(0, cut), stream.subarray(cut)]) {
      f.push(piece);
      for (let p = f.next(); p; p = f.next()) got.push(p.header.cookie);
    }
    assert.deepEqual(got, [1, 0x01020304], `cut at ${cut}`);
    assert.equal(f.buffered, 0);
  }
  const bytewise = new BinrpcFramer(65535);
  const seen: Buffer[] = [];
  for (const byte of b) {
    bytewise.push(Buffer.from([byte]));
    const p = bytewise.next();
    if (p) seen.push(p.body);
  }
  assert.deepEqual(decodeValues(seen[0]!), [str('ptimer.pause'), str('t1'), int(1)]);

  const junk = new BinrpcFramer(65535);
  junk.push(Buffer.from('GET / HTTP/1.1\r\n'));
  assert.throws(() => junk.next(), /not a BINRPC packet: the first byte is 0x47/);
  const big = new BinrpcFramer(100);
  big.push(Buffer.from([0xa1, 0x04, 0x01, 0x00, 0x07]));
  assert.throws(
    () => big.next(),
    (err: unknown) => err instanceof BinrpcError && /a packet of 261 bytes, over the limit of 100/.test(err.message),
  );
  assert.equal(big.cookie, 7, 'the cookie is known for the fault');
});

test('--binrpc addresses: unix:PATH, tcp:HOST:PORT on loopback only', () => {
  assert.deepEqual(parseBinrpcAddress('unix:/run/ptimer/ctl'), { kind: 'unix', path: '/run/ptimer/ctl' });
  assert.deepEqual(parseBinrpcAddress('unixs:/tmp/c'), { kind: 'unix', path: '/tmp/c' });
  assert.deepEqual(parseBinrpcAddress('tcp:127.0.0.1:2049'), { kind: 'tcp', host: '127.0.0.1', port: 2049 });
  assert.deepEqual(parseBinrpcAddress('tcp:[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
  assert.deepEqual(parseBinrpcAddress('tcp:localhost'), { kind: 'tcp', host: 'localhost', port: 2049 });
  assert.throws(
    () => parseBinrpcAddress('tcp:0.0.0.0:2049'),
    /tcp:0\.0\.0\.0:2049: refused, 0\.0\.0\.0 is not a loopback address: BINRPC has no authentication/,
  );
  assert.throws(() => parseBinrpcAddress('tcp:192.0.2.1:2049'), /no authentication/);
  assert.throws(() => parseBinrpcAddress('udp:127.0.0.1:2049'), /expected unix:PATH or tcp:HOST:PORT/);
  assert.throws(() => parseBinrpcAddress('unix:'), /the socket path is missing/);
  assert.throws(() => parseBinrpcAddress('tcp:127.0.0.1:70000'), /port 70000 is out of range/);
  assert.throws(() => parseBinrpcAddress('/tmp/ctl'), /expected unix:PATH/);
  // Written back as it is read: an IPv6 host in brackets, a port always.
  for (const text of ['unix:/run/ptimer/ctl', 'tcp:127.0.0.1:2049', 'tcp:[::1]:2050'])
    assert.equal(formatBinrpcAddress(parseBinrpcAddress(text)), text);
  assert.equal(formatBinrpcAddress(parseBinrpcAddress('tcp:localhost')), 'tcp:localhost:2049');
});
