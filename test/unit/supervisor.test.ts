/**
 * The supervisor's decisions (src/runtime/supervisor.ts), without threads and on a virtual
 * clock: operations one at a time and stop's precedence; a thread's states, deaths charged,
 * back-off and restart_limit; commands judged against what the commands before them leave.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OperationQueue,
  ThreadLife,
  judgeCommand,
  type ChargeableWorker,
  type JudgedCommand,
  type WorkerView,
} from '../../src/runtime/supervisor.js';

/** A promise settled by hand: the tests decide when each operation's awaits come back. */
function gate<T = void>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
const turn = () => new Promise((r) => setImmediate(r));

test('operations run one at a time, in the order asked for', async () => {
  const q = new OperationQueue();
  const log: string[] = [];
  const first = gate();
  const a = q.enqueue('reload', async () => {
    log.push('a begins');
    await first.promise;
    log.push('a ends');
  });
  const b = q.enqueue('force', () => {
    log.push('b begins');
    return Promise.resolve();
  });
  await turn();
  assert.deepEqual(log, ['a begins'], 'b waits for a');
  assert.equal(q.running, 'reload');
  first.open();
  await Promise.all([a, b]);
  assert.deepEqual(log, ['a begins', 'a ends', 'b begins']);
});

test('stop cancels the operation in progress, refuses the ones not begun, and runs after the first has settled', async () => {
  const q = new OperationQueue();
  const log: string[] = [];
  const reading = gate();
  let launched = false;
  const reload = q.enqueue('reload', async (token) => {
    await reading.promise; // reading the config
    if (token.cancelled) throw new Error('reload cancelled by stop');
    launched = true;
  });
  const force = q.enqueue('force', () => {
    log.push('force ran');
    return Promise.resolve();
  });
  await turn();
  const stop = q.stop(() => {
    log.push(`stop ran; launched=${launched}`);
    return Promise.resolve('stopped');
  });
  assert.equal(q.stopping, true);
  await assert.rejects(
    q.enqueue('reload', () => Promise.resolve(log.push('late reload ran'))),
    /ptimer is stopping; reload was not carried out/,
  );
  await turn();
  assert.deepEqual(log, [], 'stop waits for the reload in progress');
  reading.open();
  await assert.rejects(reload, /cancelled by stop/);
  await assert.rejects(force, /ptimer is stopping; force was not carried out/);
  assert.equal(await stop, 'stopped');
  assert.deepEqual(log, ['stop ran; launched=false']);
  assert.equal(await q.stop(() => Promise.resolve('again')), 'stopped', 'a second stop answers with the first');
});

test('an operation that fails does not block the ones after it', async () => {
  const q = new OperationQueue();
  await assert.rejects(
    q.enqueue('reload', async () => Promise.reject(new Error('bad config'))),
    /bad config/,
  );
  assert.equal(await q.enqueue('reload', () => Promise.resolve('ok')), 'ok');
});

// ---------------------------------------------------------------------------------------------

const worker = (inRoute = false): ChargeableWorker => ({ failed: null, deaths: [], inRoute });
const limit = { deaths: 3, windowMs: 60_000 };

test('a thread: booting, up, a quick death restarts at once, the next ones back off 100, 200, 400 ms ... up to 5 s', () => {
  const life = new ThreadLife({ deaths: 1_000, windowMs: 60_000 });
  const workers = [worker(), worker()];
  let now = 0;
  assert.equal(life.state, 'idle');
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    life.launched(now);
    assert.equal(life.state, 'booting');
    life.ready();
    assert.equal(life.state, 'up');
    now += 10; // dies 10 ms after its launch: a quick death
    const verdict = life.died(now, workers, 'boom');
    assert.equal(life.state, 'backoff');
    assert.equal(verdict.down, false);
    delays.push(verdict.restartInMs);
    now += verdict.restartInMs;
  }
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  // A thread that lived past the stable lifetime starts the count again.
  life.launched(now);
  life.ready();
  now += 5_000;
  assert.equal(life.died(now, workers, 'late').restartInMs, 0);
});

test('a death is charged to the workers in a route (all of them if none was); restart_limit within the window fails a worker', () => {
  const life = new ThreadLife(limit);
  const guilty = worker(true);
  const bystander = worker(false);
  let now = 0;
  for (let i = 1; i <= 3; i++) {
    life.launched(now);
    life.ready();
    now += 10_000;
    const verdict = life.died(now, [guilty, bystander], 'oom');
    assert.equal(guilty.deaths.length, i);
    assert.equal(bystander.deaths.length, 0, 'not to blame');
    if (i < 3) assert.deepEqual(verdict.failedNow, []);
    else {
      assert.deepEqual(verdict.failedNow, [guilty]);
      assert.match(guilty.failed!, /died 3 times within 60 s \(restart_limit\); last: oom/);
      assert.equal(verdict.down, false, 'the bystander carries on');
      assert.equal(life.state, 'backoff');
    }
  }
  // Deaths older than the window are forgotten.
  const again = worker(true);
  life.launched(now);
  life.died(now + 1, [again], 'x');
  life.launched(now + 70_000);
  life.died(now + 70_001, [again], 'x');
  assert.deepEqual(again.deaths, [now + 70_001]);
});

test('every worker failed: down, not relaunched; a stopped thread is never launched again, whatever dies after', () => {
  const life = new ThreadLife({ deaths: 1, windowMs: 60_000 });
  life.launched(0);
  life.ready();
  const verdict = life.died(10, [worker(), worker()], 'boom');
  assert.equal(verdict.down, true);
  assert.equal(life.state, 'down');
  life.revived();
  life.launched(20);
  life.stopped();
  assert.equal(life.mayLaunch, false);
  assert.throws(() => life.launched(30), /stopped thread is not launched again/);
  assert.equal(life.died(40, [worker()], 'late exit').down, true);
  assert.equal(life.state, 'stopped');
});

// ---------------------------------------------------------------------------------------------

const running: WorkerView = { failed: false, ended: false, paused: false };
const paused: WorkerView = { failed: false, ended: false, paused: true };
const ended: WorkerView = { failed: false, ended: true, paused: true };
const failed: WorkerView = { failed: true, ended: false, paused: true };

/** Applies a sequence as the main thread queues it: each judged against what the ones before leave. */
function sequence(view: WorkerView, commands: JudgedCommand[]): string[] {
  return commands.map((c) => {
    const j = judgeCommand(c, view);
    if (!j.ok) return `${c}: refused (${j.why})`;
    view = j.next;
    return `${c}: ${j.noop ? 'no-op' : 'acts'}`;
  });
}

test("commands judged against the state the commands queued before them leave: the issue's sequences", () => {
  assert.deepEqual(sequence(ended, ['start', 'loop']), ['start: acts', 'loop: acts']);
  assert.deepEqual(sequence(ended, ['start', 'end']), ['start: acts', 'end: acts']);
  assert.deepEqual(sequence(running, ['end', 'continue']), ['end: acts', 'continue: refused (ended)']);
  assert.deepEqual(sequence(ended, ['end', 'start', 'continue']), [
    'end: refused (ended)',
    'start: acts',
    'continue: no-op',
  ]);
});

test('every command in every state, as the worker machine rules', () => {
  const table: Array<[WorkerView, JudgedCommand, string]> = [
    [running, 'pause', 'acts'],
    [paused, 'pause', 'no-op'],
    [ended, 'pause', 'no-op'],
    [failed, 'pause', 'no-op'],
    [running, 'continue', 'no-op'],
    [paused, 'continue', 'acts'],
    [ended, 'continue', 'refused (ended)'],
    [failed, 'continue', 'refused (failed)'],
    [failed, 'start', 'acts'],
    [ended, 'loop', 'refused (ended)'],
    [paused, 'loop', 'acts'],
    [failed, 'end', 'refused (failed)'],
  ];
  for (const [view, command, expected] of table)
    assert.deepEqual(sequence(view, [command]), [`${command}: ${expected}`], `${command} on ${JSON.stringify(view)}`);
  const forced = judgeCommand('end', ended, true);
  assert.ok(forced.ok && forced.next.ended, 'end with force ends whatever the worker is doing');
});

test("an operation asked for while none is pending begins in the caller's turn; stop calls its cancel hooks at once", async () => {
  const q = new OperationQueue();
  const log: string[] = [];
  const booting = gate();
  const run = q.enqueue('run', async (token) => {
    log.push('run begins');
    token.onCancel(() => {
      log.push('threads still booting terminated');
      booting.open();
    });
    await booting.promise;
    if (token.cancelled) throw new Error('stopped before its workers started');
  });
  assert.deepEqual(log, ['run begins'], 'begun before any await');
  const stop = q.stop(() => Promise.resolve(log.push('stop')));
  assert.deepEqual(
    log,
    ['run begins', 'threads still booting terminated'],
    'stop does not wait for the boot to cancel it',
  );
  await assert.rejects(run, /stopped before its workers started/);
  await stop;
  assert.deepEqual(log.at(-1), 'stop');
});
