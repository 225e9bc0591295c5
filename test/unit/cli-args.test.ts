import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/cli.js';
import { parseRunArgs } from '../../src/cli/run.js';
import { parseRpcArgs, convertArg } from '../../src/cli/rpc.js';
import { UsageError } from '../../src/cli/args.js';
import { listTable, formatMicros, formatNanos, renderTable } from '../../src/cli/table.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test('--version and --help', async () => {
  assert.deepEqual(await cli('--version'), { code: 0, out: `${pkg.version}\n`, err: '' });
  assert.equal((await cli('-v')).out, `${pkg.version}\n`);
  assert.deepEqual(await cli('-V'), { code: 0, out: `${pkg.version}\n`, err: '' });
  const help = await cli('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /ptimer run \[CONFIG\]/);
  assert.match(help.out, /http:\/\/127\.0\.0\.1:8711\/RPC/);
  for (const command of ['run', 'rpc', 'check', 'top', 'build', 'completion']) {
    const own = await cli(command, '--help');
    assert.equal(own.code, 0, command);
    assert.match(own.out, new RegExp(`^Usage: ptimer ${command}`), command);
    assert.equal((await cli('help', command)).out, own.out);
    assert.equal((await cli(command, '-h')).out, own.out);
  }
  assert.match((await cli('run', '--help')).out, /default 127\.0\.0\.1:8711/);
  const none = await cli();
  assert.equal(none.code, 2);
  assert.match(none.err, /Usage:/);
});

test('unknown subcommands and flags: one line on stderr, exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['frobnicate'],
      /^ptimer: unknown command 'frobnicate' \(commands: run, rpc, check, top, build, completion\) \(see ptimer --help\)\n$/,
    ],
    [['chek', 'x.ts'], /^ptimer: unknown command 'chek' \(did you mean 'check'\?\) \(commands: /],
    [['rnu'], /^ptimer: unknown command 'rnu' \(did you mean 'run'\?\)/],
    [
      ['--frob'],
      /^ptimer: unknown option '--frob' \(a command comes first: run, rpc, check, top, build, completion\) \(see ptimer --help\)\n$/,
    ],
    [['--verison'], /^ptimer: unknown option '--verison' \(did you mean '--version'\?\)/],
    [
      ['rpc', 'ptimer.list', '--tabel'],
      /^ptimer rpc: unknown option '--tabel' \(did you mean '--table'\?\) \(see ptimer rpc --help\)\n$/,
    ],
    [['run', '--stop-timout', '5'], /^ptimer run: unknown option '--stop-timout' \(did you mean '--stop-timeout'\?\)/],
    [['top', '--intervall=2'], /^ptimer top: unknown option '--intervall' \(did you mean '--interval'\?\)/],
    [
      ['rpc', 'ptimer.list', '-o', 'yml'],
      /^ptimer rpc: --output must be one of json, table, yaml, got "yml" \(did you mean 'yaml'\?\)/,
    ],
    [
      ['rpc', 'ptimer.list', '-s', 'tcp:127.0.0.1:2049'],
      /^ptimer rpc: --socket tcp:127\.0\.0\.1:2049: tcp: is a BINRPC address/,
    ],
    [['rpc', 'ptimer.list', '--table', '-o', 'yaml'], /^ptimer rpc: --table is --output table/],
    [['rpc', 'ptimer.list', '--url', 'https://x'], /^ptimer rpc: "https:\/\/x": only http:\/\/ is served/],
    [['top', 'extra'], /^ptimer top: top takes no arguments/],
    [['top', '--interval', '0.01'], /^ptimer top: --interval must be between 0\.1 and 60 seconds/],
    [['completion'], /^ptimer completion: missing SHELL: bash or zsh/],
    [['completion', 'bsh'], /^ptimer completion: no completion for "bsh": bash or zsh \(did you mean 'bash'\?\)/],
    [['build'], /^ptimer build: missing CONFIG\.ts/],
    [['build', 'x.mjs'], /^ptimer build: x\.mjs: build compiles a \.ts or \.mts module/],
    [['run', '--frob'], /^ptimer run: unknown option '--frob' \(see ptimer run --help\)\n$/],
    [['rpc', 'ptimer.list', '--frob'], /^ptimer rpc: unknown option '--frob' \(see ptimer rpc --help\)\n$/],
    [['check', '--frob=1'], /^ptimer check: unknown option '--frob' \(see ptimer check --help\)\n$/],
    [['run', '--http'], /^ptimer run: option --http needs a value \(see ptimer run --help\)\n$/],
    [['rpc', '--table=yes', 'ptimer.list'], /^ptimer rpc: option --table takes no value/],
    [['rpc'], /^ptimer rpc: missing METHOD/],
    [
      ['rpc', 'ptimer.pause', 'queue', '-1'],
      /^ptimer rpc: unknown option '-1' \(to pass a negative number, put it after --, e.g. -- -1\)/,
    ],
    [['run', 'a.ts', 'b.ts'], /^ptimer run: one CONFIG at a time/],
    [['help', 'nope'], /^ptimer: unknown command 'nope'/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.out, '');
    assert.match(r.err, message, argv.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, argv.join(' '));
  }
});

test('run flags: defaults, --http, --no-http, --socket, token from the environment', () => {
  assert.deepEqual(parseRunArgs([], {}), {
    config: undefined,
    http: { host: '127.0.0.1', port: 8711 },
    socket: undefined,
    token: undefined,
    routes: undefined,
    defines: Object.assign(Object.create(null), {}),
    log: {},
    stopTimeoutMs: undefined,
  });
  assert.deepEqual(
    { ...(parseRunArgs(['x.cfg', '-D', 'WITH_FAST', '-D', 'IV=10ms'], {}) as { defines: object }).defines },
    { WITH_FAST: true, IV: '10ms' },
  );
  assert.throws(() => parseRunArgs(['x.cfg', '-D', '9x'], {}), /-D: "9x" is not valid/);
  const s = parseRunArgs(
    [
      'x.cfg',
      '--http',
      '[::1]:9000',
      '--socket',
      '/tmp/p.sock',
      '--routes',
      'r.ts',
      '--log-level',
      'debug',
      '--log-pretty',
      '--stop-timeout',
      '500',
    ],
    { PTIMER_RPC_TOKEN: 'env' },
  );
  assert.deepEqual(s, {
    config: 'x.cfg',
    http: { host: '::1', port: 9000 },
    socket: '/tmp/p.sock',
    token: 'env',
    routes: 'r.ts',
    defines: Object.assign(Object.create(null), {}),
    log: { level: 'debug', pretty: true },
    stopTimeoutMs: 500,
  });
  assert.equal((parseRunArgs(['--rpc-token', 'flag'], { PTIMER_RPC_TOKEN: 'env' }) as { token: string }).token, 'flag');
  assert.equal((parseRunArgs(['--no-http', '--socket', 's'], {}) as { http: unknown }).http, null);
  for (const [args, message] of [
    [['--no-http'], /--no-http without --socket/],
    [['--no-http', '--http', ':1', '--socket', 's'], /--http or --no-http, not both/],
    [['--http', 'nowhere'], /--http "nowhere" is not HOST:PORT/],
    [['--log-level', 'loud'], /--log-level must be one of fatal, error, warn, info, debug, trace, silent/],
    [['--stop-timeout', '-5'], /option|--stop-timeout/],
    [['--stop-timeout', 'soon'], /--stop-timeout must be a positive number/],
  ] as Array<[string[], RegExp]>) {
    assert.throws(
      () => parseRunArgs(args, {}),
      (err: unknown) => err instanceof UsageError && message.test(err.message),
      args.join(' '),
    );
  }
});

test('rpc args: integers become numbers, --params, --output/--table, -s/--socket/--url, --verbose', () => {
  assert.deepEqual(parseRpcArgs(['ptimer.pause', 'queue', '3'], {}), {
    method: 'ptimer.pause',
    params: ['queue', 3],
    target: {},
    options: { timeoutMs: 30_000 },
    output: 'json',
    verbose: false,
  });
  assert.deepEqual(parseRpcArgs(['ptimer.list'], {}), {
    method: 'ptimer.list',
    target: {},
    options: { timeoutMs: 30_000 },
    output: 'json',
    verbose: false,
  });
  const full = parseRpcArgs(['--socket', '/tmp/s', '--timeout', '2.5', 'ptimer.list', '--table'], {
    PTIMER_RPC_TOKEN: 't',
  });
  assert.deepEqual(full, {
    method: 'ptimer.list',
    target: { socket: '/tmp/s' },
    options: { timeoutMs: 2500, token: 't' },
    output: 'table',
    verbose: false,
  });
  // kamcmd's -s, with or without unix:; kamcli's --output
  for (const s of ['/tmp/s', 'unix:/tmp/s']) {
    assert.deepEqual(
      (parseRpcArgs(['-s', s, 'ptimer.list'], {}) as { target: unknown }).target,
      { socket: '/tmp/s' },
      s,
    );
  }
  for (const format of ['json', 'table', 'yaml']) {
    assert.equal((parseRpcArgs(['ptimer.list', '--output', format], {}) as { output: string }).output, format);
    assert.equal((parseRpcArgs(['ptimer.list', `-o${format}`], {}) as { output: string }).output, format);
  }
  assert.equal(
    (parseRpcArgs(['ptimer.list', '--verbose', '--url', 'http://h:1'], {}) as { verbose: boolean }).verbose,
    true,
  );
  assert.deepEqual((parseRpcArgs(['ptimer.list', '--url', 'http://h:1'], {}) as { target: unknown }).target, {
    url: 'http://h:1',
  });
  assert.throws(() => parseRpcArgs(['ptimer.list', '--timeout', '4000'], {}), /--timeout is at most 3600 seconds/);
  assert.deepEqual((parseRpcArgs(['ptimer.pause', '--params', '["42", 0]'], {}) as { params: unknown }).params, [
    '42',
    0,
  ]);
  assert.deepEqual((parseRpcArgs(['ptimer.pause', '--params', '{"timer":"q"}'], {}) as { params: unknown }).params, {
    timer: 'q',
  });
  assert.deepEqual((parseRpcArgs(['ptimer.pause', 'q', '--', '-1'], {}) as { params: unknown }).params, ['q', -1]);
  assert.throws(() => parseRpcArgs(['ptimer.pause', 'q', '--params', '[]'], {}), /either as ARGS or with --params/);
  assert.throws(() => parseRpcArgs(['ptimer.pause', '--params', 'nope'], {}), /--params is not JSON/);
  assert.throws(() => parseRpcArgs(['ptimer.pause', '--params', '3'], {}), /array or object/);
  assert.throws(() => parseRpcArgs(['x', '--url', 'u', '--socket', 's'], {}), /--url or --socket, not both/);

  assert.equal(convertArg('3'), 3);
  assert.equal(convertArg('-2'), -2);
  assert.equal(convertArg('1.5'), 1.5);
  assert.equal(convertArg('queue'), 'queue');
  assert.equal(convertArg('3x'), '3x');
  assert.equal(convertArg('99999999999999999999'), '99999999999999999999');
});

test('ptimer.list --table: one row per worker with the operator columns', () => {
  const control = new FakeControl([
    { name: 'queue', nworkers: 2 },
    { name: 'solo', nworkers: 1 },
  ]);
  control.timers[0]!.workers[1]!.paused = true;
  control.timers[0]!.workers[1]!.state = 'paused';
  const text = listTable(control.list());
  const lines = text.split('\n');
  assert.equal(lines.length, 4);
  assert.match(
    lines[0]!,
    /^TIMER\s+WORKER\s+STATE\s+THREAD\s+ROUTE\s+NTASKS\s+TASKS\s+SLICE\s+ITERATIONS\s+OVERRUNS\s+ERRORS\s+LATE p50\s+p99\s+max$/,
  );
  assert.match(lines[1]!, /^queue\s+0\s+running\s+pool-0\s+loop\s+0\s+0\s+0\/1\s+10\s+0\s+0\s+52us\s+140us\s+1\.83ms$/);
  assert.match(lines[2]!, /^queue\s+1\s+paused\s+pool-1\s+loop\s+0\s+0\s+0\/1\s+20\s+1\s+0\s+52us/);
  assert.match(lines[3]!, /^solo\s+0\s+running\s+pool-0\s+loop/);
  assert.equal(listTable([]), 'no timers');
});

test('formatting helpers', () => {
  assert.equal(formatMicros(0.4), '0us');
  assert.equal(formatMicros(999), '999us');
  assert.equal(formatMicros(1234), '1.23ms');
  assert.equal(formatMicros(2_500_000), '2.50s');
  assert.equal(formatMicros(undefined), '-');
  assert.equal(formatMicros(Number.NaN), '-');
  assert.equal(formatNanos(100_000_000), '100ms');
  assert.equal(formatNanos(2e9), '2s');
  assert.equal(formatNanos(250_000), '250us');
  assert.equal(formatNanos(1500), '1500ns');
  assert.equal(
    renderTable(
      ['A', 'NUM'],
      [
        ['x', '1'],
        ['long', '100'],
      ],
      new Set([1]),
    ),
    'A     NUM\nx       1\nlong  100',
  );
});
