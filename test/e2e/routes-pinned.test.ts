/**
 * A restarted thread runs the code that was checked (issue 16, defect 3): a `.mjs` config's
 * routes edited on disk after run() (without a reload), then `start ... force` and a crash:
 * the new threads load the routes pinned at run(), not the edited file.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PTimer } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-pinned-'));
const running: PTimer[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

test('.mjs routes edited after run(): a forced restart runs the checked code, not the edited file', async () => {
  const file = join(dir, 'p.config.mjs');
  writeFileSync(
    file,
    `export default { timer: ['name=p;interval=5ms'], loop: ['timer=p;route=LOOP'] };\nexport function LOOP(ctx) { ctx.emit('v', 1); }\n`,
  );
  const pt = await PTimer.fromFile(file, { log: { level: 'silent' } });
  running.push(pt);
  const seen: unknown[] = [];
  pt.on('message', (m) => seen.push(m.data));
  await pt.run();
  await waitFor('it runs', () => seen.length > 2);
  // The file now has no LOOP at all (renamed), and another value: neither may reach a thread without a reload.
  writeFileSync(
    file,
    `export default { timer: ['name=p;interval=5ms'], loop: ['timer=p;route=LOOP2'] };\nexport function LOOP2(ctx) { ctx.emit('v', 2); }\n`,
  );
  await pt.start('p', 0, { force: true });
  const from = seen.length;
  await waitFor('it runs again after the force', () => seen.length > from + 5);
  assert.deepEqual(new Set(seen), new Set([1]), 'only the checked code ran');
  const w = pt.list()[0]!.workers[0]!;
  assert.equal(w.errors, 0);
  assert.equal(w.state, 'running');
  await pt.stop();
});
