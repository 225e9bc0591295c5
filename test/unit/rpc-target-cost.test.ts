/**
 * An RPC command checks its target in O(1) (issue 16, defect 5): with a control that can say how
 * many workers a timer has (PTimer.workerCount), the dispatcher never builds `list()` for a
 * command, and its refusals keep their wording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import type { CommandResult, TimerControl } from '../../src/control-types.js';

function control(): TimerControl & { calls: string[] } {
  const calls: string[] = [];
  const result = (command: CommandResult['command'], timer: string, worker?: number): Promise<CommandResult> => {
    calls.push(`${command} ${timer} ${worker}`);
    return Promise.resolve({ timer, command, worker: worker ?? null, force: false, workers: [] });
  };
  return {
    calls,
    list: () => {
      throw new Error('list() built for a command');
    },
    workerCount: (timer) => (timer === 't0' ? 20_000 : undefined),
    pause: (t, w) => result('pause', t, w),
    continue: (t, w) => result('continue', t, w),
    start: (t, w) => result('start', t, w),
    loop: (t, w) => result('loop', t, w),
    end: (t, w) => result('end', t, w),
  };
}

test('a command names its target: checked without list(), refusals worded as before', async () => {
  const c = control();
  const rpc = new RpcDispatcher(c);
  const ok = (await rpc.handle({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['t0', 3], id: 1 })) as {
    result?: unknown;
  };
  assert.ok(ok.result, JSON.stringify(ok));
  assert.deepEqual(c.calls, ['pause t0 3']);
  const unknown = (await rpc.handle({ jsonrpc: '2.0', method: 'ptimer.pause', params: ['nope'], id: 2 })) as {
    error: { message: string };
  };
  assert.equal(unknown.error.message, 'ptimer.pause: unknown timer "nope"');
  const range = (await rpc.handle({ jsonrpc: '2.0', method: 'ptimer.end', params: ['t0', 20_000], id: 3 })) as {
    error: { message: string };
  };
  assert.equal(range.error.message, 'ptimer.end: worker 20000 is out of range: timer "t0" has 20000 workers (0-19999)');
  assert.deepEqual(c.calls, ['pause t0 3'], 'nothing sent for a refused target');
});
