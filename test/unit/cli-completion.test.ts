/**
 * `ptimer completion`, `--output` formats and did-you-mean. The bash script is run in a real
 * bash with COMP_WORDS set, as bash's completion calls it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { bashScript, flagsOf, zshScript } from '../../src/cli/completion.js';
import { RPC_HELP, RUN_HELP, TOP_HELP } from '../../src/cli/help.js';
import { formatResult } from '../../src/cli/output.js';
import { closest, didYouMean } from '../../src/cli/suggest.js';

test('flags are read off the help texts', () => {
  const rpc = flagsOf(RPC_HELP);
  for (const f of [
    '--url',
    '-s',
    '--socket',
    '--token',
    '-o',
    '--output',
    '--table',
    '--verbose',
    '--params',
    '--timeout',
    '-h',
    '--help',
  ])
    assert.ok(rpc.includes(f), f);
  assert.ok(flagsOf(RUN_HELP).includes('--stop-timeout'));
  assert.ok(flagsOf(TOP_HELP).includes('--once'));
  assert.ok(!rpc.includes('--frob'));
});

function complete(...words: string[]): string[] {
  const script = `${bashScript()}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ptimer; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('bash: commands, flags per command, RPC methods, output formats, shells', () => {
  assert.deepEqual(complete('ptimer', 'c'), ['check', 'completion']);
  assert.deepEqual(complete('ptimer', 'rpc', 'ptimer.l'), ['ptimer.list', 'ptimer.loop']);
  assert.deepEqual(complete('ptimer', 'rpc', 'ptimer.list', '--ou'), ['--output']);
  assert.deepEqual(complete('ptimer', 'rpc', 'ptimer.list', '-o', 'y'), ['yaml']);
  assert.deepEqual(complete('ptimer', 'rpc', 'ptimer.pause', 'q'), [], 'no method after the method');
  assert.deepEqual(complete('ptimer', 'top', '--on'), ['--once']);
  assert.deepEqual(complete('ptimer', 'run', '--stop-t'), ['--stop-timeout']);
  assert.deepEqual(complete('ptimer', 'completion', ''), ['bash', 'zsh']);
  assert.deepEqual(complete('ptimer', 'help', 'r'), ['run', 'rpc']);
  execFileSync('bash', ['-n', '-c', bashScript()]);
});

test('zsh: the same words in a compdef function', () => {
  const z = zshScript();
  assert.match(z, /^#compdef ptimer\n/);
  assert.match(z, /compadd -- ptimer\.list ptimer\.pause/);
  assert.match(z, /rpc\) flags=\(.*--output.*\)/);
  assert.match(z, /compdef _ptimer ptimer/);
});

test('--output: json, yaml, and tables for list, control answers and other values', () => {
  const answer = { timer: 'q', command: 'pause', worker: 1, workers: [{ worker: 1, route: 'loop', paused: true }] };
  assert.equal(formatResult('ptimer.pause', answer, 'json'), `${JSON.stringify(answer, null, 2)}\n`);
  assert.deepEqual(parseYaml(formatResult('ptimer.pause', answer, 'yaml')), answer);
  assert.equal(
    formatResult('ptimer.pause', answer, 'table'),
    'TIMER  WORKER  ROUTE  PAUSED\nq      1       loop   yes\n',
  );
  assert.equal(formatResult('system.listMethods', ['a', 'b'], 'table'), 'VALUE\na\nb\n');
  assert.equal(
    formatResult('x', { added: ['t'], removed: [] }, 'table'),
    'KEY      VALUE\nadded    ["t"]\nremoved  []\n',
  );
  assert.equal(formatResult('system.methodHelp', 'text', 'table'), 'text\n');
  assert.equal(formatResult('ptimer.list', [], 'table'), 'no timers\n');
  assert.equal(formatResult('x', null, 'yaml'), 'null\n');
});

test('did-you-mean: slips of the keyboard, not other words', () => {
  const methods = [
    'ptimer.list',
    'ptimer.pause',
    'ptimer.continue',
    'ptimer.start',
    'ptimer.loop',
    'ptimer.end',
    'ptimer.reload',
  ];
  assert.equal(closest('ptimer.lst', methods), 'ptimer.list');
  assert.equal(closest('ptimer.pasue', methods), 'ptimer.pause');
  assert.equal(closest('lsit', methods), 'ptimer.list', 'the part after the dot');
  assert.equal(closest('ptimer.relaod', methods), 'ptimer.reload');
  assert.equal(closest('--tabel', ['--table', '--timeout']), '--table');
  assert.equal(closest('rnu', ['run', 'rpc']), 'run');
  assert.equal(closest('frobnicate', ['run', 'rpc', 'check']), undefined);
  assert.equal(closest('x', ['run', 'rpc']), undefined);
  assert.equal(closest('run', ['run']), undefined, 'the word itself is no suggestion');
  assert.equal(closest('a'.repeat(500), ['a']), undefined, 'a bound on the input');
  assert.equal(didYouMean('chek', ['check']), " (did you mean 'check'?)");
  assert.equal(didYouMean('zzz', ['check']), '');
  // Another short word is not a slip: fish is not bash, -o is not -D.
  assert.equal(didYouMean('fish', ['bash', 'zsh']), '');
  assert.equal(didYouMean('-o', ['-D', '-h', '--routes', '--json']), '');
  assert.equal(
    didYouMean('default_intervall', ['default_interval', 'default_type']),
    " (did you mean 'default_interval'?)",
  );
});
