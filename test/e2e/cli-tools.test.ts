/**
 * End to end, with the built binary: a .ts config compiled once (no compiler process per
 * worker, its top-level code run once in the main thread), `ptimer build`, `ptimer rpc`'s
 * -s/--output/--verbose and its errors, and `ptimer top` under a pseudo-terminal (util-linux
 * `script`): a frame per refresh, q quits, the terminal is restored.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CLI, ROOT, Server, freePort, runCli, waitFor } from '../fixtures/cli/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-e2e-tools-'));
const out = join(dir, 'evaluations.txt');
const config = join(dir, 'four.config.ts');
const socket = join(dir, 'ptimer.sock');
let server: Server;
let port: number;

before(async () => {
  writeFileSync(join(dir, 'helper.ts'), 'export const every: string = "50ms";\n');
  writeFileSync(
    config,
    `import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { RouteContext } from 'ptimer';
import { every } from './helper.js';
appendFileSync(process.env.PTIMER_ONCE_OUT!, isMainThread ? 'main\\n' : 'worker\\n');
export default { timer: [{ name: 'four', interval: every, nworkers: 4, loop: 'LOOP' }] };
export function LOOP(ctx: RouteContext<{ n?: number }>): void { ctx.vars.n = (ctx.vars.n ?? 0) + 1; }
`,
  );
  port = await freePort();
  server = new Server([config, '--http', `127.0.0.1:${port}`, '--socket', socket, '--log-level', 'info'], {
    PTIMER_ONCE_OUT: out,
  });
  await waitFor(
    'the server to be ready',
    () => server.logs().some((l) => String(l.msg).startsWith('control interface ready')) || !server.running,
    30_000,
  );
  assert.ok(server.running, server.stderr);
});

after(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('a .ts config: compiled once into .ptimer-cache, no compiler process left, top-level code once in the main thread', async () => {
  const evaluations = readFileSync(out, 'utf8').trim().split('\n');
  assert.deepEqual(
    evaluations.filter((l) => l === 'main'),
    ['main'],
    `top-level code in the main thread: ${evaluations.join(',')}`,
  );
  const children = execFileSync('ps', ['-e', '-o', 'ppid=,comm='])
    .toString()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([ppid]) => ppid === String(server.child.pid))
    .map(([, comm]) => comm);
  assert.deepEqual(children, [], `no child processes (esbuild): ${children.join(',')}`);
  assert.ok(existsSync(join(dir, '.ptimer-cache', 'four.config.ts.json')));
  const list = JSON.parse((await runCli(['rpc', 'ptimer.list', '--url', `127.0.0.1:${port}`])).stdout);
  assert.equal(list[0].workers.length, 4);
  const threads = new Set(list[0].workers.map((w: { thread: string }) => w.thread));
  assert.equal(
    evaluations.filter((l) => l === 'worker').length,
    threads.size,
    `once in each scheduler thread (${[...threads].join(', ')})`,
  );
});

test('ptimer rpc: -s unix:PATH, --output yaml and table, --verbose names the server, a misspelt method gets a suggestion', async () => {
  const yaml = await runCli(['rpc', '-s', `unix:${socket}`, 'ptimer.list', '-o', 'yaml']);
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.equal(parseYaml(yaml.stdout)[0].name, 'four');
  const table = await runCli(['rpc', '-s', socket, 'ptimer.pause', 'four', '2', '--output', 'table']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(
    table.stdout,
    /^TIMER\s+WORKER\s+OUTCOME\s+STATE\s+ROUTE\s+PAUSED\nfour\s+2\s+done\s+paused\s+loop\s+yes\n$/,
  );
  const verbose = await runCli([
    'rpc',
    'ptimer.continue',
    'four',
    '2',
    '--url',
    `http://127.0.0.1:${port}`,
    '--verbose',
  ]);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(
    verbose.stderr,
    new RegExp(
      `^ptimer rpc: ptimer\\.continue -> http://127\\.0\\.0\\.1:${port}/RPC\\nptimer rpc: answered by http://127\\.0\\.0\\.1:${port}/RPC in \\d+ ms\\n$`,
    ),
  );
  const typo = await runCli(['rpc', 'ptimer.lsit', '--url', `127.0.0.1:${port}`]);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /^ptimer rpc: error -32601: .*\(did you mean 'ptimer\.list'\?\)\n$/);
});

test('ptimer rpc with nothing listening: exit 1, the message names the URL', async () => {
  const free = await freePort();
  const r = await runCli(['rpc', 'ptimer.list', '--url', `127.0.0.1:${free}`]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `ptimer rpc: no ptimer server answers at http://127.0.0.1:${free}/RPC (connection refused); is \`ptimer run\` running there?\n`,
  );
});

test('ptimer build: one .mjs with a map, which runs without compiling', async () => {
  const built = join(dir, 'dist', 'four.config.mjs');
  const r = await runCli(['build', config, '-o', built]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /four\.config\.mjs: built from 2 files/);
  assert.ok(existsSync(`${built}.map`));
  const check = await runCli(['check', built], { env: { PTIMER_ONCE_OUT: join(dir, 'check.txt') } });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /OK, 1 timer/);
});

test('ptimer top in a pseudo-terminal: frames with every worker, q quits with exit 0, the terminal is restored', async () => {
  // `script` runs top on a pty; its stdin (our pipe) is what is typed. After top, stty shows the mode it left.
  const child = spawn(
    'script',
    [
      '-q',
      '-e',
      '-c',
      `${process.execPath} ${CLI} top --url 127.0.0.1:${port} --interval 0.2; echo "TOP-EXIT=$?"; stty -a`,
      '/dev/null',
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor(
      'two frames with the four workers',
      () => (screen.match(/four\s+3\s+running\s+\S+\s+loop\s+[\d.]+/g) ?? []).length >= 2,
      20_000,
    );
    child.stdin.write('q');
    await waitFor('top to exit', () => /TOP-EXIT=\d+/.test(screen), 10_000);
    assert.match(screen, /TOP-EXIT=0/);
    assert.ok(screen.startsWith('\x1b[?1049h\x1b[?25l'), 'alternate screen, cursor hidden');
    const left = screen.indexOf('\x1b[?25h\x1b[?1049l');
    assert.ok(left > 0 && left < screen.indexOf('TOP-EXIT'), 'cursor and screen restored before top exited');
    const stty = screen.slice(screen.indexOf('TOP-EXIT'));
    assert.match(stty, /(^|\s)icanon(\s|$)/m, 'canonical mode back (raw mode off)');
    assert.match(stty, /(^|\s)echo(\s|$)/m, 'echo back');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('ptimer rpc ptimer.reload after the .ts changed: recompiled, the new timer added, the old one untouched', async () => {
  const before = JSON.parse((await runCli(['rpc', 'ptimer.list', '--url', `127.0.0.1:${port}`])).stdout);
  writeFileSync(join(dir, 'helper.ts'), 'export const every: string = "50ms";\nexport const extra: string = "20ms";\n');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace("import { every } from './helper.js';", "import { every, extra } from './helper.js';")
      .replace("loop: 'LOOP' }]", "loop: 'LOOP' }, { name: 'extra', interval: extra, loop: 'LOOP' }]"),
  );
  const r = await runCli(['rpc', 'ptimer.reload', '--url', `127.0.0.1:${port}`]);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.deepEqual(answer.added, ['extra']);
  assert.deepEqual(answer.unchanged, ['four']);
  const after = await waitFor('the new timer to loop', async () => {
    const list = JSON.parse((await runCli(['rpc', 'ptimer.list', '--url', `127.0.0.1:${port}`])).stdout);
    return (
      list.find((t: { name: string; workers: Array<{ iterations: number }> }) => t.name === 'extra')?.workers[0]
        ?.iterations > 0 && list
    );
  });
  const four = (l: Array<{ name: string; workers: Array<{ iterations: number }> }>) =>
    l.find((t) => t.name === 'four')!.workers[0]!.iterations;
  assert.ok(four(after) >= four(before), 'the unchanged timer kept its count');
  const outputs = execFileSync('ls', [join(dir, '.ptimer-cache')])
    .toString()
    .split('\n')
    .filter((n) => n.endsWith('.mjs'));
  assert.equal(outputs.length, 2, `one compiled file per content: ${outputs.join(', ')}`);
});

test('ptimer top into a pipe: a reader that goes away (| head) or SIGINT ends it with exit 0, no stack trace', async () => {
  for (const end of ['close the pipe', 'SIGINT'] as const) {
    const child = spawn(process.execPath, [CLI, 'top', '--url', `127.0.0.1:${port}`, '--interval', '0.2'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('a frame', () => /four\s+3\s+running/.test(stdout), 15_000);
      if (end === 'SIGINT') child.kill('SIGINT');
      else child.stdout.destroy();
      assert.equal(await exited, 0, `${end}: ${stderr}`);
      assert.equal(stderr, '', end);
      // eslint-disable-next-line no-control-regex -- ESC is the very character this checks is absent
      assert.doesNotMatch(stdout, /\x1b/, 'no escape sequences into a pipe');
    } finally {
      child.kill('SIGKILL');
    }
  }
});
