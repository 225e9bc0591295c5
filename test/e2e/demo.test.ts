/**
 * The demo (`npm start`) end to end: it runs for --seconds 3 and its lines add up (calls pushed =
 * released + queued, every second and at the end), the releaser never releases more than 50 per
 * second, and it really releases (the routes take from the queue); `--seconds 0` runs until
 * SIGINT, then stops gracefully.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = ['--import', 'tsx', 'examples/demo.ts'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo; `onLine` may send it a signal. Fails after `timeoutMs`. */
function runDemo(
  args: string[],
  timeoutMs: number,
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...DEMO, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) onLine?.(line, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not finish within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ACCOUNTS = /pushed (\d+) = released (\d+) \+ queued (\d+) \((adds up|DOES NOT ADD UP[^)]*)\)/;

function accountsOf(line: string) {
  const m = ACCOUNTS.exec(line);
  assert.ok(m, `no accounts in: ${line}`);
  return { pushed: Number(m[1]), released: Number(m[2]), queued: Number(m[3]), verdict: m[4] };
}

test('npm start is the demo', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.scripts.start, 'node --import tsx examples/demo.ts');
});

test('--seconds 3: every line adds up, at most 50 released per second, and calls are released', async () => {
  const run = await runDemo(['--seconds', '3'], 30_000);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  const seconds = lines.filter((l) => /^\[\s*\d+ s\]/.test(l));
  assert.equal(seconds.length, 3, run.stdout);
  let before = { pushed: 0, released: 0 };
  for (const [i, line] of seconds.entries()) {
    const a = accountsOf(line);
    assert.equal(a.verdict, 'adds up', line);
    assert.equal(a.pushed, a.released + a.queued, line);
    assert.ok(a.released >= before.released && a.pushed >= before.pushed, `counts never go back: ${line}`);
    // The releaser's ceiling: 5 per 100 ms slot (2 or 3 per worker run), so 50 per second.
    const released = a.released - before.released;
    const thisSecond = Number(/releaser: \d+ runs, (\d+) released this second/.exec(line)?.[1]);
    assert.equal(thisSecond, released, `the line's "released this second" is the difference: ${line}`);
    assert.ok(
      a.released <= 2.5 * Number(/releaser: (\d+) runs/.exec(line)![1]) + 3,
      `at most 5 per slot of two runs: ${line}`,
    );
    before = a;
    if (i === 0)
      assert.ok(a.pushed >= 50 && a.queued > 0, `the burst of the first second (100/s) outruns 50/s: ${line}`);
  }
  assert.ok(before.released >= 60, `the routes released calls: ${before.released} in 3 s`);
  const final = lines.find((l) => l.startsWith('final: '));
  assert.ok(final, run.stdout);
  const f = accountsOf(final);
  assert.equal(f.verdict, 'adds up');
  assert.equal(f.pushed, f.released + f.queued);
  assert.ok(
    lines.some((l) => l.startsWith('stopped: end routes ran')),
    run.stdout,
  );
  assert.doesNotMatch(run.stdout, /DOES NOT ADD UP|refused/);
});

test('--seconds 0 runs until SIGINT, then stops gracefully with final counts that add up', async () => {
  let lines = 0;
  let sent = false;
  const run = await runDemo(['--seconds', '0'], 30_000, (line, child) => {
    if (/^\[\s*\d+ s\]/.test(line) && ++lines === 2 && !sent) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(sent, run.stdout);
  const final = run.stdout.split('\n').find((l) => l.startsWith('final: '));
  assert.ok(final, run.stdout);
  assert.equal(accountsOf(final).verdict, 'adds up');
});
