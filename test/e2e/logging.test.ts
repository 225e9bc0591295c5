/**
 * Logging with real threads (issue 8 item 5, issue 9 item 3):
 * - a route that throws on every 1 ms run writes 5 stack traces per worker and then summaries,
 *   whose counts add up, with the full lines, to the worker's `errors` and the routeError events;
 * - lines logged in routes reach the destination given in `log` (a stream, or a pino logger
 *   with its own bindings), the one logged right before `process.exit` included;
 * - on a terminal (a pty made by util-linux `script`), thread lines are as pretty as the main
 *   thread's, coloured, and without any escape code when NO_COLOR is set.
 * Routes are written to a temporary directory; every wait is on a condition with a deadline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { PTimer, type PTimerConfig, type WorkerExitEvent } from '../../src/index.js';
import { waitFor } from '../support/wait.js';
import { memory } from '../support/memory-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-logging-'));
const routesPath = join(dir, 'routes.mjs');
writeFileSync(
  routesPath,
  `let n = 0;
export function THROW() { throw new Error('boom ' + (++n)); }
export function CHATTY(ctx) { ctx.log.info({ n: ++n }, 'chatty says'); ctx.log.debug('below the level'); }
export function LAST_WORDS(ctx) { ctx.log.warn('last words before exit'); process.exit(7); }
export function ONCE(ctx) { ctx.log.info('hello from a route'); ctx.emit('logged', null); return -1; }
`,
);
const routes = pathToFileURL(routesPath);
const running: PTimer[] = [];
after(async () => {
  await Promise.all(running.map((pt) => pt.stop({ timeoutMs: 2_000 })));
  rmSync(dir, { recursive: true, force: true });
});

async function start(
  config: PTimerConfig,
  log: NonNullable<ConstructorParameters<typeof PTimer>[1]['log']>,
  before?: (pt: PTimer) => void,
): Promise<PTimer> {
  const pt = await PTimer.create(config, { routes, log });
  running.push(pt);
  before?.(pt);
  await pt.run();
  return pt;
}

test('a route that throws every 1 ms: 5 stack traces per worker, then summaries that count every error', async (t) => {
  const { stream, text, lines } = memory();
  const events = [0, 0];
  const pt = await start({ timer: [{ name: 't', interval: '1ms', nworkers: 2, loop: 'THROW' }] }, stream, (p) =>
    p.on('routeError', (e) => events[e.worker]!++),
  );
  const began = Date.now();
  await waitFor('2000 errors in each worker', () => pt.list()[0]!.workers.every((w) => w.errors >= 2_000), 30_000);
  await pt.stop();
  const seconds = (Date.now() - began) / 1000;
  const errors = pt.list()[0]!.workers.map((w) => w.errors);
  const all = lines();
  for (const worker of [0, 1]) {
    const mine = all.filter((l) => l.timer === 't' && l.worker === worker);
    const full = mine.filter((l) => typeof (l.err as { stack?: unknown } | undefined)?.stack === 'string');
    const summaries = mine.filter((l) => typeof l.errors === 'number');
    assert.equal(full.length, 5, `worker ${worker}: 5 full lines`);
    assert.match(String(full[0]!.msg), /^loop route THROW threw: boom \d+$/);
    assert.match(String((full[0]!.err as { stack: string }).stack), /^Error: boom \d+\n {4}at .*THROW/);
    assert.match(String(full[4]!.msg), /later errors of this route are counted and summarised every 10 s/);
    assert.ok(
      summaries.length >= 1 && summaries.length <= Math.ceil(seconds / 10) + 1,
      `worker ${worker}: ${summaries.length} summaries in ${seconds} s`,
    );
    for (const s of summaries) {
      assert.match(
        String(s.msg),
        new RegExp(
          `^loop route of worker ${worker} of "t" threw ${s.errors as number} more times in the last [\\d.]+ s \\(last: boom \\d+\\)$`,
        ),
      );
    }
    const counted = summaries.reduce((sum, s) => sum + (s.errors as number), 0);
    assert.equal(
      full.length + counted,
      errors[worker],
      `worker ${worker}: every error is in the log, in full or counted`,
    );
    assert.equal(events[worker], errors[worker], `worker ${worker}: a routeError event for every error`);
  }
  const bytes = Buffer.byteLength(text());
  assert.ok(bytes < 20_000, `${bytes} bytes of log`);
  t.diagnostic(
    `${errors[0]! + errors[1]!} errors in ${seconds.toFixed(1)} s: ${bytes} bytes of log (${Math.round(bytes / seconds)} B/s)`,
  );
});

test('route lines reach the destination given in log, the last one before process.exit included', async () => {
  const { stream, text, lines } = memory();
  const exits: Array<{ event: WorkerExitEvent; seen: boolean }> = [];
  const pt = await start(
    {
      restart_limit: '1/60s',
      timer: [
        { name: 'chatty', interval: '10ms', loop: 'CHATTY' },
        { name: 'dies', interval: '10ms', loop: 'LAST_WORDS' },
      ],
    },
    { destination: stream, level: 'info' },
    (p) => p.on('workerExit', (event) => exits.push({ event, seen: text().includes('last words before exit') })),
  );
  const exit = await waitFor('the dying thread to exit', () => exits[0]);
  assert.equal(exit.event.code, 7);
  assert.equal(exit.seen, true, 'the line posted before the exit arrived before the exit was handled');
  await waitFor('3 chatty lines', () => lines().filter((l) => l.msg === 'chatty says').length >= 3);
  await pt.stop();
  const all = lines();
  const chatty = all.find((l) => l.msg === 'chatty says')!;
  assert.deepEqual(
    { level: chatty.level, timer: chatty.timer, worker: chatty.worker, route: chatty.route, n: typeof chatty.n },
    { level: 30, timer: 'chatty', worker: 0, route: 'loop', n: 'number' },
  );
  assert.match(String(chatty.thread), /^pool-\d+$/);
  const last = all.find((l) => l.msg === 'last words before exit')!;
  assert.deepEqual([last.level, last.timer, last.route], [40, 'dies', 'loop']);
  assert.equal(all.filter((l) => l.msg === 'below the level').length, 0, 'debug lines are dropped at info');
  assert.ok(
    all.some((l) => l.msg === 'ptimer running') && all.some((l) => l.msg === 'ptimer stopped'),
    "the main thread's lines are there too",
  );
});

test('a pino logger given in log: route lines go through it, with its bindings and level', async () => {
  const { stream, lines } = memory();
  const pt = await start(
    { timer: [{ name: 'chatty', interval: '10ms', loop: 'CHATTY' }] },
    pino({ level: 'debug', base: { service: 'billing' } }, stream),
  );
  await waitFor('a debug line from the route', () => lines().some((l) => l.msg === 'below the level'));
  await pt.stop();
  const line = lines().find((l) => l.msg === 'chatty says')!;
  assert.deepEqual([line.service, line.timer, line.route], ['billing', 'chatty', 'loop']);
  assert.equal(lines().find((l) => l.msg === 'ptimer running')!.service, 'billing');
});

/** Runs a PTimer whose route logs once, with stdout on a pty; gives what the terminal showed. */
async function onTerminal(env: Record<string, string>): Promise<string> {
  const host = join(dir, 'tty-host.mjs');
  writeFileSync(
    host,
    `import { PTimer } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
const pt = await PTimer.create({ timer: [{ name: 'once', interval: '10ms', loop: 'ONCE' }] }, { routes: ${JSON.stringify(routes.href)} });
const logged = new Promise((resolve) => pt.once('message', resolve));
await pt.run();
await logged;
await pt.stop();
`,
  );
  const { NO_COLOR: _unset, FORCE_COLOR: _unset2, ...base } = process.env;
  const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(host)}`, '/dev/null'], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.on('error', (e) => (out += `could not run util-linux script (it makes the pty): ${e.message}`));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `the host exited 0; it printed:\n${out}`);
  return out;
}

test('on a terminal: route lines are pretty like the rest, coloured; NO_COLOR removes every escape code', async () => {
  const coloured = await onTerminal({});
  assert.match(coloured, /hello from a route/);
  assert.match(coloured, /ptimer running/);
  assert.ok(!coloured.includes('{"level"'), `no raw JSON on a terminal:\n${coloured}`);
  assert.ok(coloured.includes('\u001b['), 'colours on a terminal');

  const plain = await onTerminal({ NO_COLOR: '1' });
  assert.match(plain, /INFO.*: hello from a route/);
  assert.match(plain, /thread: "pool-0"/);
  assert.ok(!plain.includes('{"level"'), `no raw JSON on a terminal:\n${plain}`);
  assert.ok(!plain.includes('\u001b'), `no escape codes with NO_COLOR:\n${JSON.stringify(plain)}`);
});
