/**
 * A thread that dies inside `take(n, { send })`'s send, holding its timer's limiter lock (issue
 * 16, defects 2 and 11), with real threads: by process.exit, by an out-of-memory, by `end ...
 * force` while the send spins; and a send that throws. After each, the worker (restarted, or
 * started again) takes on at once: the supervisor broke the dead thread's lock and checked the
 * limiter; nothing waits out the lock timeout, no take throws, the window is never exceeded.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-locks-'));
const running: PTimer[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

const CONFIG = `export default {
  max_heap: 32,
  restart_limit: '100/60s',
  command_timeout: '500ms',
  queue: ['name=jobs;size=1000'],
  timer: ['name=x;interval=5ms;limit=1000/1s'],
  loop: ['timer=x;route=TAKE'],
};
export function TAKE(ctx) {
  const got = ctx.queue('jobs').take(1, {
    send(items) {
      const v = items[0].value;
      if (v === 'exit') process.exit(3);
      if (v === 'throw') throw new Error('send threw');
      if (v === 'spin') for (;;) {}
      if (v === 'oom') { const hog = []; for (;;) hog.push(new Array(1e5).fill(hog.length)); }
    },
  });
  if (got.length > 0) ctx.emit('took', got[0].value);
}
`;

for (const fault of ['exit', 'oom', 'throw', 'force'] as const) {
  test(`a send that ${fault === 'force' ? 'spins until end force' : fault === 'exit' ? 'calls process.exit' : fault === 'oom' ? 'runs out of memory' : 'throws'}: the limiter's lock is given back, takes go on at once`, async () => {
    const file = join(dir, `${fault}.config.mjs`);
    writeFileSync(file, CONFIG);
    const pt = await PTimer.fromFile(file, { log: { level: 'silent' } });
    running.push(pt);
    const took: string[] = [];
    const lockErrors: string[] = [];
    pt.on('message', (m) => took.push(m.data as string));
    pt.on('routeError', (e) => {
      if (/lock/.test(e.message)) lockErrors.push(e.message);
    });
    const jobs = pt.queue('jobs');
    assert.ok(jobs.push('before'));
    await pt.run();
    await waitFor('the first take', () => took.includes('before'));
    assert.ok(jobs.push(fault === 'force' ? 'spin' : fault));
    if (fault === 'force') {
      await waitFor('stuck in its send', () => pt.list()[0]!.workers[0]!.state === 'stuck');
      const ended = await pt.end('x', 0, { force: true });
      assert.equal(ended.workers[0]!.state, 'ended');
      await pt.start('x', 0);
    } else if (fault !== 'throw') {
      await waitFor('restarted', () => pt.list()[0]!.workers[0]!.restarts === 1);
    }
    const since = Date.now();
    for (const v of ['after1', 'after2']) assert.ok(jobs.push(v), 'the host pushes at once');
    assert.ok(Date.now() - since < 1_000, `the host's push waited ${Date.now() - since} ms`);
    await waitFor('the takes after it', () => took.includes('after2'), 3_000);
    assert.ok(Date.now() - since < 3_000, `took ${Date.now() - since} ms: no lock timeout waited out`);
    assert.deepEqual(lockErrors, []);
    assert.equal(pt.list()[0]!.workers[0]!.state, 'running');
    await pt.stop();
  });
}
