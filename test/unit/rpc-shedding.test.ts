/**
 * Issue 19's pure parts, on a virtual clock: which connection a full control server sheds
 * (connection-shedding.ts), how drops are summarised and counted (drop-log.ts), the FIFO
 * splitter's resync, and the token rule (defect 6: a blank or low-variety token passed the
 * off-loopback rule and then locked everyone out with 401).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionShedder } from '../../src/rpc/connection-shedding.js';
import { TransportDropLog } from '../../src/rpc/drop-log.js';
import { JsonDocumentSplitter } from '../../src/rpc/jsonrpcs-framing.js';
import { startHttpServer, tokenProblem, tokenShortfall } from '../../src/rpc/http-server.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { createMetrics } from '../../src/rpc/metrics.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('shedding: under the cap all are admitted; at it the idlest past its grace goes', () => {
  const c = clock();
  const s = new ConnectionShedder<string>({ maxConnections: 3, graceMs: 100, now: c.now });
  assert.deepEqual(s.admit('a'), { admitted: true });
  c.advance(10);
  assert.deepEqual(s.admit('b'), { admitted: true });
  c.advance(10);
  assert.deepEqual(s.admit('c'), { admitted: true });
  c.advance(200);
  // a answered a request after b and c opened: b is now the idlest.
  s.working('a');
  s.answered('a');
  assert.deepEqual(s.admit('d'), { admitted: true, shed: 'b' });
  assert.equal(s.size, 3);
});

test('shedding: a connection being answered is never shed; newcomers in their grace are admitted up to the hard cap', () => {
  const c = clock();
  const s = new ConnectionShedder<string>({ maxConnections: 2, maxOpen: 4, graceMs: 100, now: c.now });
  s.admit('w1');
  s.admit('w2');
  s.working('w1');
  s.working('w2');
  c.advance(500);
  // Both open ones are working: newcomers are admitted over the soft cap, up to the hard one.
  assert.deepEqual(s.admit('n1'), { admitted: true });
  assert.deepEqual(s.admit('n2'), { admitted: true });
  // At the hard cap the idlest newcomer goes even within its grace (n1 opened first).
  assert.deepEqual(s.admit('n3'), { admitted: true, shed: 'n1' });
  assert.equal(s.isWorking('w1'), true);
  // When every open connection is working, a newcomer is refused.
  s.working('n2');
  s.working('n3');
  assert.deepEqual(s.admit('n4'), { admitted: false });
  s.answered('w1');
  c.advance(1);
  assert.deepEqual(s.admit('n4'), { admitted: true, shed: 'w1' });
});

test('shedding: a connection past the burst of newcomers is not shed while the burst is in its grace (batch accept)', () => {
  const c = clock();
  const s = new ConnectionShedder<string>({ maxConnections: 4, graceMs: 100, now: c.now });
  for (let i = 0; i < 4; i++) s.admit(`idle${i}`);
  c.advance(1000);
  // One batch: the operator's connection, then 20 abusers, all in one go (same instant).
  const first = s.admit('operator');
  assert.deepEqual(first, { admitted: true, shed: 'idle0' });
  const shed: string[] = [];
  for (let i = 0; i < 20; i++) {
    const a = s.admit(`abuser${i}`);
    if (a.admitted && a.shed) shed.push(a.shed);
  }
  assert.ok(!shed.includes('operator'), `shed: ${shed.join(', ')}`);
  assert.deepEqual(shed, ['idle1', 'idle2', 'idle3']);
  assert.equal(s.size, 21);
  s.working('operator'); // its request is read: never shed now
  c.advance(1000);
  for (let i = 0; i < 40; i++) {
    const a = s.admit(`late${i}`);
    assert.ok(a.admitted && a.shed !== 'operator');
  }
});

function fakeLogger() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { lines, warn: (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

test('drop log: the first 5 of a kind in full, then one summary a period; every drop counted', () => {
  const c = clock(0);
  const logger = fakeLogger();
  const log = new TransportDropLog(logger, { now: c.now });
  const fifo = log.reporter('fifo');
  for (let i = 0; i < 100_000; i++) fifo(`request not run: reply_name must be a non-empty string (${i})`);
  log.reporter('binrpc')('BINRPC packet not complete', 'timeout');
  assert.equal(logger.lines.length, 6);
  assert.match(logger.lines[4]!.msg, /later ones of this kind are counted and summarised every 10 s/);
  c.advance(10_000);
  log.tick();
  assert.equal(logger.lines.length, 7);
  assert.equal(
    logger.lines[6]!.msg,
    'fifo: 99995 more dropped (bad-request) in the last 10 s (last: request not run: reply_name must be a non-empty string (99999))',
  );
  assert.deepEqual(logger.lines[6]!.obj, { transport: 'fifo', drop: 'bad-request', drops: 99995, periodMs: 10_000 });
  assert.deepEqual(log.totals(), [
    { transport: 'fifo', kind: 'bad-request', count: 100_000 },
    { transport: 'binrpc', kind: 'timeout', count: 1 },
  ]);
  // Quiet for a period: full lines again.
  c.advance(20_000);
  fifo('again');
  assert.equal(logger.lines.at(-1)!.msg, 'again');
  log.flush();
});

test('drop log: counted in /metrics as ptimer_rpc_drops_total', async () => {
  const log = new TransportDropLog(fakeLogger());
  log.reporter('http')('shed one', 'shed');
  log.reporter('http')('shed two', 'shed');
  log.reporter('fifo')('bad');
  const metrics = createMetrics(new FakeControl([{ name: 't', nworkers: 1 }]), { drops: log, processMetrics: false });
  const text = await metrics.render();
  assert.match(text, /^ptimer_rpc_drops_total\{transport="http",kind="shed"\} 2$/m);
  assert.match(text, /^ptimer_rpc_drops_total\{transport="fifo",kind="bad-request"\} 1$/m);
});

test('FIFO splitter: reset drops a request cut short and the next one is read whole', () => {
  const s = new JsonDocumentSplitter();
  assert.deepEqual(s.push('{"jsonrpc":"2.0","method":"ptimer.list"'), []);
  assert.equal(s.inObject, true);
  assert.deepEqual(s.reset(), { partialBytes: 39, strayChars: 0 });
  assert.equal(s.inObject, false);
  assert.deepEqual(s.push('{"jsonrpc":"2.0","method":"ptimer.list","id":1}'), [
    { kind: 'document', text: '{"jsonrpc":"2.0","method":"ptimer.list","id":1}' },
  ]);
  // Without the reset, the same bytes are swallowed into the unfinished request (the wedge).
  const wedged = new JsonDocumentSplitter();
  wedged.push('{"jsonrpc":"2.0","method":"ptimer.list"');
  assert.deepEqual(wedged.push('{"jsonrpc":"2.0","method":"ptimer.list","id":1}'), []);
});

test('tokens (defect 6): blank, whitespace-only and low-variety tokens are refused off loopback, saying what is needed', () => {
  for (const token of [
    ' '.repeat(16),
    '\t'.repeat(20),
    'a'.repeat(16),
    'abababababababab',
    'abcabcabcabcabcabc',
    'has spaces in it ok',
  ]) {
    const problem = tokenProblem('0.0.0.0', token);
    assert.ok(problem, JSON.stringify(token));
    assert.match(problem, /openssl rand -hex 16/);
  }
  assert.match(
    tokenProblem('0.0.0.0', 'a'.repeat(16))!,
    /weak token: .* at least 6 of them different \(this one has 1\)/,
  );
  assert.match(tokenProblem('0.0.0.0', ' '.repeat(16))!, /blank or has whitespace at either end/);
  // A blank token locks everyone out on loopback too; padding can never match a sent token.
  assert.equal(tokenShortfall('127.0.0.1', '   '), 'blank');
  assert.equal(tokenShortfall('127.0.0.1', ' a-real-token-here'), 'blank');
  assert.equal(tokenShortfall('127.0.0.1', ''), undefined);
  // What the message suggests passes: openssl rand -hex 16 is 32 hex digits.
  assert.equal(tokenProblem('0.0.0.0', '3f9c2a71b04de8651f0a9c3b7e2d4a18'), undefined);
});

test('tokens (defect 6): startHttpServer (and so pt.serve) refuses a weak token before listening', async () => {
  const dispatcher = new RpcDispatcher(new FakeControl([{ name: 't', nworkers: 1 }]));
  await assert.rejects(
    startHttpServer({ host: '0.0.0.0', port: 0, dispatcher, token: ' '.repeat(16) }),
    /HttpServerConfigError: .*blank/,
  );
  await assert.rejects(
    startHttpServer({ host: '0.0.0.0', port: 0, dispatcher, token: 'aaaaaaaaaaaaaaaa' }),
    /HttpServerConfigError: .*weak token/,
  );
});
