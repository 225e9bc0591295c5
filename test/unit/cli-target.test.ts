/**
 * Where `ptimer rpc` and `ptimer top` find the server: a flag, else PTIMER_URL / PTIMER_SOCKET,
 * else a small file as kamcli's kamcli.ini, else the default (target `{}`, so rpc says on
 * stderr which server answered).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/args.js';
import { parseTarget } from '../../src/cli/target.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-cli-target-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('flags first, then PTIMER_URL or PTIMER_SOCKET, then the default', () => {
  assert.deepEqual(parseTarget('rpc', {}, {}).target, {});
  assert.deepEqual(parseTarget('rpc', {}, { PTIMER_URL: 'http://127.0.0.1:9/RPC' }).target, {
    url: 'http://127.0.0.1:9/RPC',
  });
  assert.deepEqual(parseTarget('rpc', {}, { PTIMER_SOCKET: '/run/p.sock' }).target, { socket: '/run/p.sock' });
  assert.deepEqual(parseTarget('rpc', { socket: '/tmp/s' }, { PTIMER_URL: 'http://127.0.0.1:9/RPC' }).target, {
    socket: '/tmp/s',
  });
  assert.throws(
    () => parseTarget('rpc', {}, { PTIMER_URL: 'http://h/RPC', PTIMER_SOCKET: '/s' }),
    /PTIMER_URL and PTIMER_SOCKET are both set/,
  );
});

test('a CLI config file (PTIMER_CLI_CONFIG or ~/.config/ptimer/cli.ini): socket or url, timeout, token; the environment wins', () => {
  const file = join(dir, 'cli.ini');
  writeFileSync(
    file,
    "# where the server is\n[cli]\nsocket = /run/ptimer/ptimer.sock   ; the unit's socket\ntimeout = 2\ntoken = abc\n",
  );
  const fromFile = parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: file });
  assert.deepEqual(fromFile.target, { socket: '/run/ptimer/ptimer.sock' });
  assert.deepEqual(fromFile.options, { timeoutMs: 2000, token: 'abc' });
  assert.deepEqual(parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: file, PTIMER_SOCKET: '/other' }).target, {
    socket: '/other',
  });
  assert.equal(
    parseTarget('rpc', { timeout: '7' }, { PTIMER_CLI_CONFIG: file }).options.timeoutMs,
    7000,
    'a flag wins over the file',
  );

  const home = join(dir, 'home');
  mkdirSync(join(home, '.config', 'ptimer'), { recursive: true });
  writeFileSync(join(home, '.config', 'ptimer', 'cli.ini'), 'url = http://127.0.0.1:9/RPC\n');
  assert.deepEqual(parseTarget('top', {}, { HOME: home }).target, { url: 'http://127.0.0.1:9/RPC' });
});

test('a bad CLI config file is a usage error naming the file, the line and what is allowed', () => {
  const bad = join(dir, 'bad.ini');
  writeFileSync(bad, 'sockt = /run/p.sock\n');
  assert.throws(
    () => parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: bad }),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === `${bad}:1: unknown key "sockt" (did you mean 'socket'?); allowed: url, socket, timeout, token`,
  );
  writeFileSync(bad, 'colour = blue\n');
  assert.throws(
    () => parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: bad }),
    (err: unknown) => err instanceof UsageError && !/did you mean/.test(err.message),
  );
  writeFileSync(bad, 'just words\n');
  assert.throws(() => parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: bad }), /bad\.ini:1: expected key = value/);
  writeFileSync(bad, 'url = http://h/RPC\nsocket = /s\n');
  assert.throws(() => parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: bad }), /give url or socket, not both/);
  assert.throws(
    () => parseTarget('rpc', {}, { PTIMER_CLI_CONFIG: join(dir, 'missing.ini') }),
    /cannot read the CLI config .*missing\.ini/,
  );
});
