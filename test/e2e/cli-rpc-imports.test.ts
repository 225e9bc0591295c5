// `ptimer rpc` is an operator's command line: it loads the client and the output formats and
// nothing of the runtime or the data plane (each module is a file read and a compile on every call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
const RECORDER = join(ROOT, 'test/fixtures/cli/record-imports.mjs');

function importsOf(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-imports-'));
  try {
    const log = join(dir, 'imports.txt');
    // No server answers there: the call fails after the command's modules have all loaded.
    const run = spawnSync(process.execPath, ['--import', RECORDER, CLI, ...args], {
      env: { ...process.env, RECORD_IMPORTS: log, PTIMER_URL: '', PTIMER_SOCKET: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 1, `ptimer ${args.join(' ')}: ${run.stderr}`);
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((url) => url.includes('/dist/'))
      .map((url) => url.slice(url.indexOf('/dist/') + 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ptimer rpc loads neither the runtime nor the data plane nor the RPC server', () => {
  const socket = join(tmpdir(), `ptimer-none-${process.pid}.sock`);
  const loaded = importsOf(['rpc', '-s', socket, 'ptimer.list']);
  assert.ok(loaded.includes('dist/cli/rpc.js') && loaded.includes('dist/rpc/client.js'), loaded.join(' '));
  const heavy = loaded.filter((file) =>
    /^dist\/(data|runtime|core|cluster|config\/resolve)\b|^dist\/rpc\/(dispatcher|methods-|metrics|http-server)/.test(
      file,
    ),
  );
  assert.deepEqual(heavy, [], `modules ptimer rpc does not need: ${heavy.join(', ')}`);
});
