import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcDispatcher, RPC_METHODS } from '../../src/rpc/dispatcher.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

function setup(
  timers = [
    { name: 'queue', nworkers: 3 },
    { name: 'solo', nworkers: 1 },
  ],
) {
  const control = new FakeControl(timers);
  const internal: unknown[] = [];
  const dispatcher = new RpcDispatcher(control, { onInternalError: (err) => internal.push(err) });
  const call = async (body: unknown) => JSON.parse((await dispatcher.handleText(JSON.stringify(body)))!);
  return { control, dispatcher, call, internal };
}

const req = (method: string, params?: unknown, id: unknown = 1) =>
  params === undefined ? { jsonrpc: '2.0', method, id } : { jsonrpc: '2.0', method, params, id };

test('ptimer.list answers the control list', async () => {
  const { call } = setup();
  const res = await call(req('ptimer.list'));
  assert.equal(res.jsonrpc, '2.0');
  assert.equal(res.id, 1);
  assert.deepEqual(
    res.result.map((t: { name: string }) => t.name),
    ['queue', 'solo'],
  );
  assert.equal(res.result[0].workers.length, 3);
  assert.deepEqual((await call(req('ptimer.list', []))).result.length, 2);
  assert.deepEqual((await call(req('ptimer.list', {}))).result.length, 2);
});

test('control methods take [timer], [timer, worker] and {timer, worker}, and answer the state after', async () => {
  const { call, control } = setup();
  const one = await call(req('ptimer.pause', ['queue', 2]));
  assert.deepEqual(one.result, {
    timer: 'queue',
    command: 'pause',
    worker: 2,
    force: false,
    workers: [{ worker: 2, outcome: 'done', state: 'paused', route: 'loop', paused: true }],
  });
  const all = await call(req('ptimer.pause', ['queue']));
  assert.equal(all.result.worker, null);
  assert.deepEqual(
    all.result.workers.map((w: { paused: boolean }) => w.paused),
    [true, true, true],
  );
  const named = await call(req('ptimer.continue', { timer: 'queue', worker: 0 }));
  assert.deepEqual(named.result.workers, [
    { worker: 0, outcome: 'done', state: 'running', route: 'loop', paused: false },
  ]);
  await call(req('ptimer.end', ['solo']));
  await call(req('ptimer.start', ['solo', 0]));
  await call(req('ptimer.loop', { timer: 'solo' }));
  assert.deepEqual(control.calls, [
    { command: 'pause', timer: 'queue', worker: 2 },
    { command: 'pause', timer: 'queue' },
    { command: 'continue', timer: 'queue', worker: 0 },
    { command: 'end', timer: 'solo' },
    { command: 'start', timer: 'solo', worker: 0 },
    { command: 'loop', timer: 'solo' },
  ]);
});

test('400 for bad arguments, 404 for an unknown timer; the control is not called', async () => {
  const { call, control } = setup();
  const cases: Array<[unknown, number, RegExp]> = [
    [['queue', 3], 400, /worker 3 is out of range: timer "queue" has 3 workers \(0-2\)/],
    [['queue', -1], 400, /worker -1 is out of range/],
    [['queue', 1.5], 400, /worker must be an integer index, got 1.5/],
    [['queue', '1'], 400, /worker must be an integer index, got "1"/],
    [['queue', null], 400, /worker must be an integer index, got null/],
    [[42], 400, /timer must be a non-empty string, got 42/],
    [[''], 400, /timer must be a non-empty string/],
    [[], 400, /missing the timer name/],
    [undefined, 400, /missing the timer name/],
    [['queue', 0, 'extra'], 400, /takes \[timer, worker\]: got 3 params/],
    [{ timer: 'queue', wrker: 1 }, 400, /unknown param "wrker"/],
    [['nope'], 404, /unknown timer "nope"/],
    [['nope', 99], 404, /unknown timer "nope"/],
  ];
  for (const [params, code, message] of cases) {
    const res = await call(req('ptimer.pause', params));
    assert.equal(res.error?.code, code, `params ${JSON.stringify(params)}: ${JSON.stringify(res)}`);
    assert.match(res.error.message, message);
    assert.equal(res.id, 1);
  }
  assert.equal(control.calls.length, 0);
  const list = await call(req('ptimer.list', ['x']));
  assert.equal(list.error.code, 400);
});

test("the engine's ControlError keeps its code; anything else is 500", async () => {
  const { call, control, internal } = setup();
  await call(req('ptimer.end', ['solo']));
  const res = await call(req('ptimer.continue', ['solo']));
  assert.equal(res.error.code, 400);
  assert.match(res.error.message, /^ptimer.continue: .*only start/);
  control.failWith = new Error('thread gone');
  const boom = await call(req('ptimer.pause', ['queue']));
  assert.equal(boom.error.code, 500);
  assert.match(boom.error.message, /internal failure: thread gone/);
  assert.equal(internal.length, 1);
});

test('envelope errors: -32700, -32600, -32601', async () => {
  const { dispatcher, call, control } = setup();
  const parse = JSON.parse((await dispatcher.handleText('{"jsonrpc": "2.0", "method": '))!);
  assert.equal(parse.error.code, -32700);
  assert.equal(parse.id, null);
  for (const bad of [
    42,
    'x',
    null,
    { method: 'ptimer.list', id: 1 },
    { jsonrpc: '1.0', method: 'ptimer.list', id: 1 },
    { jsonrpc: '2.0', method: 5, id: 1 },
    { jsonrpc: '2.0', method: 'ptimer.list', params: 'queue', id: 1 },
    { jsonrpc: '2.0', method: 'ptimer.list', id: { a: 1 } },
  ]) {
    const res = await call(bad);
    assert.equal(res.error.code, -32600, JSON.stringify(bad));
  }
  assert.equal((await call({ jsonrpc: '1.0', method: 'ptimer.list', id: 7 })).id, 7);
  const unknown = await call(req('ptimer.restart'));
  assert.equal(unknown.error.code, -32601);
  assert.match(unknown.error.message, /ptimer.restart/);
  const reloaded = await call(req('ptimer.reload'));
  assert.deepEqual(reloaded.result.unchanged, ['queue', 'solo']);
  // A control without reload answers ptimer.reload with a clear 500.
  (control as { reload?: unknown }).reload = undefined;
  const noReload = await call(req('ptimer.reload'));
  assert.equal(noReload.error.code, 500);
  assert.match(noReload.error.message, /cannot reload/);
  assert.equal((await call(req('toString'))).error.code, -32601);
  assert.equal((await call(req('__proto__'))).error.code, -32601);
});

test('batches: answers in order, notifications not answered, an empty batch is invalid', async () => {
  const { dispatcher, call, control } = setup();
  const res = await call([
    req('ptimer.list', undefined, 'a'),
    { jsonrpc: '2.0', method: 'ptimer.pause', params: ['solo'] },
    req('nope', undefined, 'c'),
    5,
  ]);
  assert.equal(res.length, 3);
  assert.equal(res[0].id, 'a');
  assert.equal(res[1].error.code, -32601);
  assert.equal(res[2].error.code, -32600);
  assert.equal(control.calls.length, 1); // the notification ran
  assert.equal(await dispatcher.handleText(JSON.stringify([{ jsonrpc: '2.0', method: 'ptimer.list' }])), undefined);
  assert.equal(
    await dispatcher.handleText(JSON.stringify({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['nope'] })),
    undefined,
  );
  const empty = await call([]);
  assert.equal(empty.error.code, -32600);
});

test('a slow command does not hold up the others', async () => {
  const { dispatcher, control } = setup();
  control.delayMs = 400;
  let settled = false;
  const slow = dispatcher.handleText(JSON.stringify(req('ptimer.start', ['queue']))).finally(() => (settled = true));
  const list = await dispatcher.handleText(JSON.stringify(req('ptimer.list', undefined, 2)));
  assert.equal(settled, false, 'list answered while start was still running');
  assert.equal(JSON.parse(list!).id, 2);
  assert.equal(JSON.parse((await slow)!).result.command, 'start');
});

test('requests wait for `ready`', async () => {
  const control = new FakeControl([{ name: 'solo', nworkers: 1 }]);
  let open!: () => void;
  const dispatcher = new RpcDispatcher(control, { ready: new Promise<void>((r) => (open = r)) });
  let answered = false;
  const pending = dispatcher.handleText(JSON.stringify(req('ptimer.list'))).then((t) => ((answered = true), t));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(answered, false);
  open();
  assert.equal(JSON.parse((await pending)!).result.length, 1);
});

test('system.listMethods and system.methodHelp', async () => {
  const { call } = setup();
  const list = await call(req('system.listMethods'));
  assert.deepEqual(list.result, Object.keys(RPC_METHODS));
  for (const m of ['ptimer.list', 'ptimer.pause', 'ptimer.continue', 'ptimer.start', 'ptimer.loop', 'ptimer.end'])
    assert.ok(list.result.includes(m));
  const help = await call(req('system.methodHelp', ['ptimer.pause']));
  assert.match(help.result, /^ptimer.pause\(timer \[, worker\]\): Pause/);
  assert.equal((await call(req('system.methodHelp', ['nope']))).error.code, 404);
  assert.equal((await call(req('system.methodHelp', [1]))).error.code, 400);
});
