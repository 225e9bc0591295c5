/**
 * `ptimer top`: rows from two samples, the frame's text, keys, and a session driven on
 * virtual time with a fake client (no server, no real clock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyAction, queueRows, renderTop, TERMINAL, topRows, TopSession, type TopClock } from '../../src/cli/top.js';
import { RpcCallError, RpcTransportError } from '../../src/rpc/client.js';
import type { TimerInfo, WorkerInfo } from '../../src/control-types.js';

function worker(i: number, over: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    worker: i,
    pid: 1,
    threadId: i + 1,
    ntasks: 0,
    tasks: 0,
    nslices: 1,
    slice: 0,
    paused: false,
    route: 'loop',
    interval: '10ms',
    iterations: 0,
    overruns: 0,
    errors: 0,
    restarts: 0,
    lateJoins: 0,
    spin: 0,
    lateness: { p50: 52, p99: 140, max: 1830, count: 0, sum: 0 },
    ...over,
  } as unknown as WorkerInfo; // without state and thread, as a server before the thread pool lists it
}
function timer(name: string, workers: WorkerInfo[]): TimerInfo {
  return {
    name,
    type: 1,
    interval: '10ms',
    nworkers: workers.length,
    ntasks: 0,
    nslices: 1,
    start: null,
    loop: 'L',
    end: null,
    workers,
  };
}
const measured = (iterations: number, extra: Partial<WorkerInfo> = {}) => ({
  iterations,
  lateness: { p50: 52, p99: 1400, max: 2000, count: iterations, sum: 0 },
  ...extra,
});

test('topRows: runs per second from the change in iterations; state and thread shown when listed', () => {
  const first = { atMs: 1000, timers: [timer('q', [worker(0, measured(100)), worker(1, measured(50))])] };
  const second = {
    atMs: 3000,
    timers: [
      timer('q', [
        worker(0, { ...measured(300), state: 'running', thread: 'pool-2' }),
        worker(1, measured(10, { errors: 3, overruns: 4 })),
      ]),
      timer('new', [worker(0)]),
    ],
  };
  assert.deepEqual(
    topRows(undefined, first).map((r) => r.runsPerSecond),
    [null, null],
    'no rate from one sample',
  );
  const rows = topRows(first, second);
  assert.equal(rows[0]!.runsPerSecond, 100);
  assert.equal(rows[0]!.state, 'running');
  assert.equal(rows[0]!.thread, 'pool-2');
  assert.equal(rows[0]!.p99, 1400);
  assert.equal(rows[1]!.runsPerSecond, null, 'iterations went down (the worker restarted its counters): no rate');
  assert.equal(rows[1]!.state, null);
  assert.deepEqual([rows[1]!.errors, rows[1]!.overruns], [3, 4]);
  assert.equal(rows[2]!.runsPerSecond, null, 'a timer not in the previous sample');
  assert.equal(rows[2]!.p50, null, 'no loop run yet: no lateness');
});

test('renderTop: header with server, time and counts; a row per worker; "-" for what is not known', () => {
  const first = { atMs: 0, timers: [timer('queue', [worker(0, measured(0))])] };
  const second = {
    atMs: 1000,
    timers: [
      timer('queue', [worker(0, { ...measured(1000), state: 'running', thread: 'own:queue/0' })]),
      timer('idle', [worker(0)]),
    ],
  };
  const text = renderTop(topRows(first, second), {
    server: 'http://127.0.0.1:8711/RPC',
    time: new Date('2026-01-02T03:04:05Z'),
  });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'ptimer top - http://127.0.0.1:8711/RPC - 03:04:05 UTC - 2 timers, 2 workers - q to quit');
  assert.equal(lines[1], '');
  assert.match(lines[2]!, /^TIMER\s+WORKER\s+STATE\s+THREAD\s+ROUTE\s+RUNS\/s\s+OVERRUNS\s+ERRORS\s+LATE p50\s+p99$/);
  assert.match(lines[3]!, /^queue\s+0\s+running\s+own:queue\/0\s+loop\s+1000\s+0\s+0\s+52us\s+1\.40ms$/);
  assert.match(lines[4]!, /^idle\s+0\s+-\s+-\s+loop\s+-\s+0\s+0\s+-\s+-$/);
  const cut = renderTop(topRows(undefined, second), {
    server: 's',
    time: new Date(0),
    error: 'no answer',
    columns: 20,
    lines: 3,
  });
  assert.deepEqual(cut.trimEnd().split('\n'), ['ptimer top - s - 00:', '! no answer', '... 4 more lines']);
  assert.match(renderTop([], { server: 's', time: new Date(0) }), /0 timers, 0 workers - q to quit\n\nno timers\n$/);
});

test('keyAction: q, Q, Ctrl-C and Ctrl-D quit; other keys do nothing', () => {
  for (const k of ['q', 'Q', '\x03', '\x04', Buffer.from('q')]) assert.equal(keyAction(k), 'quit', JSON.stringify(k));
  for (const k of ['a', ' ', '\r', '\x1b[A', Buffer.from([0x1b, 0x5b, 0x42])])
    assert.equal(keyAction(k), null, JSON.stringify(k));
});

/** A clock whose time moves only when the test says so. */
function virtualClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const clock: TopClock = {
    now: () => now,
    date: () => new Date(Date.UTC(2026, 0, 1) + now),
    setTimer: (fn, ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimer: (h) => void timers.delete(h as number),
  };
  return {
    clock,
    pending: () => timers.size,
    async advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
      for (let i = 0; i < 5; i++) await Promise.resolve(); // let the poll's promise chain settle
      await new Promise((r) => setImmediate(r));
    },
  };
}

function fakeClient(answers: Array<TimerInfo[] | Error>) {
  let calls = 0;
  return {
    server: 'unix:/run/ptimer.sock',
    get calls() {
      return calls;
    },
    list: () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve(a);
    },
  };
}

test('a session on a terminal: alternate screen, a frame per interval, q quits and restores the terminal', async () => {
  const v = virtualClock();
  const out: string[] = [];
  const client = fakeClient([
    [timer('q', [worker(0, measured(0))])],
    [timer('q', [worker(0, measured(100))])],
    [timer('q', [worker(0, measured(250))])],
  ]);
  const session = new TopSession(
    client,
    { write: (t) => void out.push(t), tty: true, columns: 200, rows: 50 },
    v.clock,
    { intervalMs: 1000 },
  );
  const done = session.start();
  await v.advance(0);
  assert.equal(out[0], TERMINAL.enter);
  assert.equal(client.calls, 1);
  await v.advance(1000);
  assert.equal(client.calls, 2);
  assert.ok(out.at(-1)!.startsWith(TERMINAL.home));
  assert.match(out.at(-1)!, /q\s+0\s+-\s+-\s+loop\s+100\s/);
  await v.advance(1000);
  assert.match(out.at(-1)!, /loop\s+150\s/);
  session.key('x');
  assert.equal(v.pending(), 1, 'another key does not quit');
  session.key(Buffer.from('q'));
  assert.equal(await done, 0);
  assert.equal(out.at(-1), TERMINAL.leave, 'the terminal is restored last');
  assert.equal(v.pending(), 0, 'no refresh left scheduled');
  session.quit(0);
  assert.equal(out.filter((t) => t === TERMINAL.leave).length, 1, 'restored once');
});

test('a session: no server at the first refresh exits 1 with the reason; a later failure is shown and polling goes on', async () => {
  const v = virtualClock();
  let reason = '';
  const none = new TopSession(
    fakeClient([new RpcTransportError('no ptimer server answers at http://127.0.0.1:8711/RPC (connection refused)')]),
    { write: () => {}, tty: true },
    v.clock,
    {
      intervalMs: 1000,
      onFirstError: (m) => (reason = m),
    },
  );
  const code = none.start();
  await v.advance(0);
  assert.equal(await code, 1);
  assert.match(reason, /connection refused/);

  const out: string[] = [];
  const t = [timer('q', [worker(0, measured(10))])];
  const client = fakeClient([t, new RpcTransportError('the connection was reset'), t]);
  const session = new TopSession(client, { write: (x) => void out.push(x), tty: false }, v.clock, { intervalMs: 500 });
  const done = session.start();
  await v.advance(0);
  await v.advance(500);
  assert.match(
    out.at(-1)!,
    /^\n.*\n! the connection was reset\n/,
    'frames one after another, the failure in the frame',
  );
  assert.match(out.at(-1)!, /q\s+0/, 'the last good rows are kept');
  await v.advance(500);
  assert.equal(client.calls, 3);
  assert.doesNotMatch(out.at(-1)!, /!/);
  session.quit(0);
  assert.equal(await done, 0);
  assert.ok(!out.some((x) => x.includes('\x1b')), 'no escape sequences when not on a terminal');
});

test('--once: two samples one interval apart, one frame, no escape sequences, then exit', async () => {
  const v = virtualClock();
  const out: string[] = [];
  const client = fakeClient([[timer('q', [worker(0, measured(0))])], [timer('q', [worker(0, measured(50))])]]);
  const session = new TopSession(client, { write: (x) => void out.push(x), tty: true }, v.clock, {
    intervalMs: 1000,
    once: true,
  });
  const done = session.start();
  await v.advance(0);
  assert.equal(out.length, 0);
  await v.advance(1000);
  assert.equal(await done, 0);
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^ptimer top - unix:\/run\/ptimer\.sock/);
  assert.match(out[0]!, /loop\s+50\.0/);
});

test('queues: a row per queue below the workers, in and out per second from the change in pushed and taken', async () => {
  const q = (pushed: number, taken: number, size: number) => ({
    name: 'calls',
    size,
    capacity: 10000,
    pushed,
    taken,
    refused: 2,
    expired: 1,
  });
  const first = { atMs: 0, timers: [timer('q', [worker(0)])], queues: [q(100, 40, 60)] };
  const second = { atMs: 2000, timers: [timer('q', [worker(0)])], queues: [q(300, 140, 160)] };
  assert.deepEqual(queueRows(first, second), [
    { queue: 'calls', size: 160, capacity: 10000, pushedPerSecond: 100, takenPerSecond: 50, refused: 2, expired: 1 },
  ]);
  const frame = renderTop(topRows(first, second), { server: 's', time: new Date(0) }, queueRows(first, second));
  assert.match(frame, /\nQUEUE +ITEMS +CAPACITY +IN\/s +OUT\/s +REFUSED +EXPIRED\n/);
  assert.match(frame, /\ncalls +160 +10000 +100 +50\.0 +2 +1\n/);
  // A session asks ptimer.queues with each list; a server that does not know it shows no queues.
  const v = virtualClock();
  const frames: string[] = [];
  let asked = 0;
  const client = {
    ...fakeClient([[timer('q', [worker(0)])]]),
    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a failed assertion rejects, as a real call does
    call: (async (method: string) => {
      asked++;
      assert.equal(method, 'ptimer.queues');
      if (asked > 1) throw new RpcCallError(-32601, 'method not found');
      return [q(1, 0, 1)];
    }) as never,
  };
  const session = new TopSession(client, { write: (t) => frames.push(t), tty: false }, v.clock, { intervalMs: 1000 });
  void session.start();
  await v.advance(0);
  assert.match(frames.at(-1)!, /\ncalls +1 +10000 +- +- +2 +1\n/);
  await v.advance(1000);
  await v.advance(1000);
  assert.equal(asked, 2, 'not asked again after -32601');
  assert.doesNotMatch(frames.at(-1)!, /QUEUE/);
  session.quit(0);
});
