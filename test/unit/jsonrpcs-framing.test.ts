/**
 * The jsonrpcs FIFO's request framing (objects cut by brace counting, as jsonrpcs does), its
 * reply_name rules, and a request run through the dispatcher with a fake control.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkReplyName,
  formatResponse,
  JsonDocumentSplitter,
  runFifoRequest,
} from '../../src/rpc/jsonrpcs-framing.js';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

const docs = (events: ReturnType<JsonDocumentSplitter['push']>) =>
  events.filter((e) => e.kind === 'document').map((e) => (e as { text: string }).text);

test('objects back to back, split anywhere, with braces and quotes inside strings', () => {
  const a = '{"jsonrpc": "2.0", "method": "ptimer.list", "reply_name": "kamailio_receiver_1", "id": 1}\n';
  const b = '{"jsonrpc":"2.0","method":"x","params":["{ \\"not\\" } }","}"],"id":{"n":2}}';
  const stream = a + b + '\n';
  for (let cut = 0; cut <= stream.length; cut++) {
    const s = new JsonDocumentSplitter();
    const got = [...docs(s.push(stream.slice(0, cut))), ...docs(s.push(stream.slice(cut)))];
    assert.deepEqual(got, [a.trim(), b], `cut at ${cut}`);
    assert.equal(s.pending, 0);
  }
});

test('stray text between objects is skipped and reported; an object over the limit is dropped, never buffered', () => {
  const s = new JsonDocumentSplitter(100);
  const events = s.push('garbage {"a":1} ');
  assert.deepEqual(events, [
    { kind: 'stray', chars: 7 },
    { kind: 'document', text: '{"a":1}' },
  ]);
  const big = `{"a":"${'x'.repeat(500)}"}`;
  assert.deepEqual(s.push(big.slice(0, 300)), []);
  assert.equal(s.pending, 0, 'nothing held for an oversize object');
  assert.deepEqual(s.push(big.slice(300) + '{"b":2}'), [
    { kind: 'oversize', bytes: big.length },
    { kind: 'document', text: '{"b":2}' },
  ]);
});

test('reply_name: a plain name in the reply directory, as jsonrpcs allows it', () => {
  assert.equal(checkReplyName('kamailio_receiver_123', '/tmp'), undefined);
  assert.match(checkReplyName('../etc/passwd', '/tmp')!, /may not contain '\.', '\/' or '\\'/);
  assert.match(checkReplyName('a/b', '/tmp')!, /may not contain/);
  assert.match(checkReplyName('a.b', '/tmp')!, /may not contain/);
  assert.match(checkReplyName(undefined, '/tmp')!, /reply_name must be a non-empty string/);
  assert.match(checkReplyName(7, '/tmp')!, /must be a non-empty string/);
  assert.match(checkReplyName('x'.repeat(200), '/tmp')!, /over 127 bytes/);
});

test('a request runs through the dispatcher; the answer is pretty-printed, one member per line', async () => {
  const control = new FakeControl([{ name: 't1', nworkers: 2 }]);
  const dispatcher = new RpcDispatcher(control);
  const out = await runFifoRequest(
    dispatcher,
    '{"jsonrpc": "2.0", "method": "ptimer.pause", "params": ["t1", 1], "reply_name": "r1", "id": 5}',
    '/tmp',
  );
  assert.equal(out.kind, 'answer');
  if (out.kind !== 'answer') return;
  assert.equal(out.replyName, 'r1');
  assert.match(out.text, /^\{\n\t"jsonrpc": "2\.0",\n\t"result": \{\n/);
  const answer = JSON.parse(out.text);
  assert.equal(answer.id, 5);
  assert.equal(answer.result.timer, 't1');
  assert.equal(answer.result.command, 'pause');
  assert.deepEqual(
    answer.result.workers.map((w: { worker: number; paused: boolean }) => [w.worker, w.paused]),
    [[1, true]],
  );
  const err = await runFifoRequest(
    dispatcher,
    '{"jsonrpc":"2.0","method":"ptimer.pause","params":["t1",9],"reply_name":"r1","id":6}',
    '/tmp',
  );
  assert.equal(err.kind === 'answer' && JSON.parse(err.text).error.code, 400);
  const unknown = await runFifoRequest(
    dispatcher,
    '{"jsonrpc":"2.0","method":"core.psx","reply_name":"r1","id":7}',
    '/tmp',
  );
  assert.equal(unknown.kind === 'answer' && JSON.parse(unknown.text).error.code, -32601);
  assert.deepEqual(control.calls, [{ command: 'pause', timer: 't1', worker: 1 }]);
  const noReply = await runFifoRequest(
    dispatcher,
    '{"jsonrpc":"2.0","method":"ptimer.pause","params":["t1"],"id":8}',
    '/tmp',
  );
  assert.equal(noReply.kind, 'dropped');
  assert.equal(control.calls.length, 1, 'a request with nowhere to answer is not run');
  assert.equal((await runFifoRequest(dispatcher, '{"jsonrpc": "2.0", broken', '/tmp')).kind, 'dropped');
  assert.equal(formatResponse(undefined), '');
});
