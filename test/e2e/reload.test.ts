/**
 * Reload without restart: a config file rewritten under a running PTimer (and under `ptimer run`,
 * by SIGHUP and ptimer.reload) adds, changes and removes timers while an unchanged one keeps
 * its iterations, grid and vars; an invalid config changes nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer } from '../../src/index.js';
import { waitFor } from '../support/wait.js';
import { Server, freePort, rpcHttp, waitFor as waitForAsync } from '../fixtures/cli/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-reload-'));
const running: PTimer[] = [];
const servers: Server[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  await Promise.all(servers.map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

/** A config module: `timers` as timer strings, with counting routes. */
function configModule(timers: string[], loopBody = 'ctx.vars.n = (ctx.vars.n ?? 0) + 1;'): string {
  return `export default { timer: ${JSON.stringify(timers)}, loop: ${JSON.stringify(timers.map((t) => `timer=${/name=([^;]+)/.exec(t)![1]};route=LOOP`))}, end: ${JSON.stringify(timers.map((t) => `timer=${/name=([^;]+)/.exec(t)![1]};route=END`))} };
export function LOOP(ctx) { ${loopBody} if (ctx.vars.n % 5 === 0) ctx.emit('n', ctx.vars.n); }
export function END(ctx) { ctx.emit('ended', ctx.vars.n ?? 0); }
`;
}

const worker = (pt: PTimer, timer: string) => pt.list().find((t) => t.name === timer)?.workers[0];

test('reload adds, changes and removes timers; the unchanged one keeps its iterations and vars; an invalid config changes nothing', async () => {
  const file = join(dir, 'a.config.mjs');
  writeFileSync(file, configModule(['name=keep;interval=5ms', 'name=change;interval=5ms', 'name=drop;interval=5ms']));
  const pt = await PTimer.fromFile(file, { log: { level: 'silent' } });
  running.push(pt);
  const events: Array<{ timer: string; event: string; data: unknown }> = [];
  pt.on('message', (m) => events.push({ timer: m.timer, event: m.event, data: m.data }));
  await pt.run();
  await waitFor('keep loops', () => (worker(pt, 'keep')?.iterations ?? 0) >= 10);

  writeFileSync(
    file,
    configModule(['name=keep;interval=5ms', 'name=change;interval=10ms', 'name=added;interval=5ms;nworkers=2']),
  );
  const before = worker(pt, 'keep')!;
  const result = await pt.reload();
  assert.deepEqual(result.added, ['added']);
  assert.deepEqual(result.removed, ['drop']);
  assert.deepEqual(
    result.changed.map((c) => c.timer),
    ['change'],
  );
  assert.match(result.changed[0]!.why, /interval/);
  assert.deepEqual(result.unchanged, ['keep']);
  assert.deepEqual(
    pt.list().map((t) => t.name),
    ['keep', 'change', 'added'],
  );
  const kept = worker(pt, 'keep')!;
  assert.ok(kept.iterations >= before.iterations, 'iterations go on');
  assert.equal(kept.thread, before.thread, 'same thread');
  assert.equal(kept.restarts, 0);
  assert.ok(
    events.some((e) => e.timer === 'drop' && e.event === 'ended'),
    "the removed timer's end route ran",
  );
  assert.ok(
    events.some((e) => e.timer === 'change' && e.event === 'ended'),
    "the changed timer's end route ran",
  );
  assert.ok(!events.some((e) => e.timer === 'keep' && e.event === 'ended'), 'the unchanged timer did not end');
  assert.equal(pt.list().find((t) => t.name === 'change')!.interval, '10ms');
  await waitFor('the added timer loops on both workers', () =>
    pt
      .list()
      .find((t) => t.name === 'added')!
      .workers.every((w) => w.iterations > 3),
  );
  // vars of the unchanged worker went on counting: the next "n" it emits is past what it had.
  const lastKeep = () => events.filter((e) => e.timer === 'keep' && e.event === 'n').at(-1)?.data as number;
  const seen = lastKeep();
  await waitFor('keep counts on', () => lastKeep() > seen);
  assert.ok(lastKeep() > before.iterations - 5, 'its vars were not reset');

  writeFileSync(
    file,
    'export default { timer: ["name=x;interval=10m"], loop: ["timer=x;route=LOOP"] }; export function LOOP() {}',
  );
  await assert.rejects(
    pt.reload(),
    (e: Error & { code?: number }) => e.code === 400 && /nothing changed/.test(e.message) && /10m/.test(e.message),
  );
  assert.deepEqual(
    pt.list().map((t) => t.name),
    ['keep', 'change', 'added'],
  );

  writeFileSync(file, configModule(['name=keep;interval=5ms'], 'ctx.vars.n = (ctx.vars.n ?? 0) + 2;'));
  const codeChanged = await pt.reload();
  assert.deepEqual(
    codeChanged.changed.map((c) => c.timer),
    ['keep'],
  );
  assert.match(codeChanged.changed[0]!.why, /code of its loop route/);
  assert.deepEqual(codeChanged.removed.sort(), ['added', 'change']);
  await pt.stop();
});

test('ptimer run: SIGHUP and ptimer.reload re-read the config file; the process keeps running', async () => {
  const file = join(dir, 'b.config.mjs');
  writeFileSync(file, configModule(['name=one;interval=10ms']));
  const port = await freePort();
  const server = new Server([file, '--http', `127.0.0.1:${port}`, '--log-level', 'info']);
  servers.push(server);
  await waitForAsync('the server', async () => (await rpcHttp(port, 'ptimer.list').catch(() => null))?.result);
  writeFileSync(file, configModule(['name=one;interval=10ms', 'name=two;interval=10ms']));
  server.child.kill('SIGHUP');
  await waitForAsync(
    'two timers',
    async () => ((await rpcHttp(port, 'ptimer.list')).result as Array<{ name: string }>).length === 2,
  );
  assert.equal(server.running, true, 'SIGHUP did not stop the server');
  writeFileSync(file, configModule(['name=two;interval=10ms']));
  const answer = await rpcHttp(port, 'ptimer.reload');
  assert.deepEqual((answer.result as { removed: string[] }).removed, ['one']);
  server.child.kill('SIGTERM');
  const { code } = await server.waitForExit();
  assert.equal(code, 0);
});

test("reload: an added timer's routes reach the queues, and a timer's new limit=N/W holds from its restart (an unchanged limit keeps its window)", async () => {
  const file = join(dir, 'q.config.mjs');
  const module = (
    timers: string[],
  ) => `export default { queue: ['name=jobs;size=100000'], timer: ${JSON.stringify(timers)},
  loop: ${JSON.stringify(timers.map((t) => `timer=${/name=([^;]+)/.exec(t)![1]};route=TAKE`))} };
export function TAKE(ctx) { const got = ctx.queue('jobs').take(5); if (got.length > 0) ctx.emit('took', got.map((i) => i.value)); }
`;
  writeFileSync(file, module(['name=steady;interval=10ms;limit=2/1s']));
  const pt = await PTimer.fromFile(file, { log: { level: 'silent' } });
  running.push(pt);
  const took: Array<{ timer: string; at: number; values: string[] }> = [];
  pt.on('message', (m) => {
    if (m.event === 'took') took.push({ timer: m.timer, at: performance.now(), values: m.data as string[] });
  });
  const jobs = pt.queue('jobs');
  for (let i = 0; i < 2000; i++) assert.ok(jobs.push(`j${i}`));
  await pt.run();
  await waitFor(
    'steady takes its 2',
    () => took.filter((t) => t.timer === 'steady').flatMap((t) => t.values).length >= 2,
  );

  // steady: same limit (its window goes on); fresh: a new timer with a limit of its own.
  writeFileSync(file, module(['name=steady;interval=10ms;limit=2/1s', 'name=fresh;interval=10ms;limit=3/1s']));
  const result = await pt.reload();
  assert.deepEqual(result.added, ['fresh']);
  assert.deepEqual(result.unchanged, ['steady']);
  const reloadedAt = performance.now();
  // The first `ms` of a timer's takes after `since`: the values taken from its first take on, up to `ms` later.
  const takenWithin = (timer: string, since: number, ms: number) => {
    const takes = took.filter((t) => t.timer === timer && t.at >= since);
    return takes.filter((t) => t.at < takes[0]!.at + ms).flatMap((t) => t.values).length;
  };
  const iterations = (timer: string) => pt.list().find((t) => t.name === timer)!.workers[0]!.iterations;
  // Wait for the added timer to take its 3 and then to loop on (each loop tries to take again): the
  // evidence that the limit held, where a fixed sleep would only hope the timer had run meanwhile.
  await waitFor('fresh takes its 3', () => takenWithin('fresh', reloadedAt, Infinity) >= 3);
  const freshLoops = iterations('fresh');
  await waitFor('fresh loops on 20 times', () => iterations('fresh') >= freshLoops + 20);
  assert.equal(
    pt.list().find((t) => t.name === 'fresh')!.workers[0]!.errors,
    0,
    "the added timer's route found the queue",
  );
  // Within its first 900 ms (the window is 1 s; 100 ms for the messages' way to the main thread) no more than 3.
  assert.equal(
    takenWithin('fresh', reloadedAt, 900),
    3,
    'the added timer took its limit of 3 in its first second, no more',
  );
  assert.equal(takenWithin('steady', 0, 900), 2, 'the unchanged timer kept its window: still 2 in its first second');

  // steady's limit changes: the timer restarts with the new limit.
  writeFileSync(file, module(['name=steady;interval=10ms;limit=4/1s', 'name=fresh;interval=10ms;limit=3/1s']));
  const changed = await pt.reload();
  assert.deepEqual(
    changed.changed.map((c) => c.timer),
    ['steady'],
  );
  const changedAt = performance.now();
  await waitFor('steady takes its 4', () => takenWithin('steady', changedAt, Infinity) >= 4);
  const steadyLoops = iterations('steady');
  await waitFor('steady loops on 20 times', () => iterations('steady') >= steadyLoops + 20);
  assert.equal(takenWithin('steady', changedAt, 900), 4, 'the new limit of 4 holds after the change');
  const all = took.flatMap((t) => t.values);
  assert.equal(new Set(all).size, all.length, 'no job taken twice');
});
