/** Kamailio-style files as text: line ends, strings and comments, bounds, and linear-time parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KamailioCfgError, parseKamailioCfg } from '../../dist/config/kamailio-cfg.js';

const LINES = [
  '# a comment',
  'modparam("ptimer", "timer", "name=a")',
  '#!ifdef NEVER',
  'modparam("ptimer", "timer", "name=never")',
  '#!endif',
  'modparam("ptimer", "oops", 1)',
];

test('LF, CRLF and CR-only line ends read the same: a leading # comment does not swallow the file', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const good = parseKamailioCfg(LINES.slice(0, 5).join(eol), 'e.cfg');
    assert.deepEqual(good.config, { timer: ['name=a'] }, JSON.stringify(eol));
    assert.throws(
      () => parseKamailioCfg(LINES.join(eol), 'e.cfg'),
      (err: unknown) => err instanceof KamailioCfgError && err.line === 6 && err.column === 20 && /unknown ptimer parameter "oops"/.test(err.message),
      JSON.stringify(eol),
    );
  }
});

test('strings: double quotes take Kamailio\'s escapes and may span lines; single quotes are raw', () => {
  const { config } = parseKamailioCfg(
    'modparam("ptimer", "timer", "a\\tb\\x41\\101\\"\\\\\\q")\nmodparam("ptimer", "start", \'x\\ty\')\nmodparam("ptimer", "end", "one\\\ntwo\nthree")',
  );
  assert.deepEqual(config, { timer: ['a\tbAA"\\\\q'], start: ['x\\ty'], end: ['onetwo\nthree'] });
});

test('block comments nest, as in Kamailio', () => {
  assert.deepEqual(parseKamailioCfg('/* a /* b */ still comment */ modparam("ptimer", "timer", "name=a")').config, { timer: ['name=a'] });
  assert.throws(() => parseKamailioCfg('/* a /* b */'), /^KamailioCfgError: kamailio\.cfg:1:1: comment \/\* is not closed/);
});

test('a file over 16 MiB is refused before it is read', () => {
  assert.throws(() => parseKamailioCfg(' '.repeat(16 * 1024 * 1024 + 1), 'big.cfg'), /^KamailioCfgError: big\.cfg:1:1: the file has 16777217 characters/);
});

test('error messages cut long text from the file', () => {
  const long = 'x'.repeat(100_000);
  const err = (() => {
    try {
      parseKamailioCfg(`modparam("ptimer", "${long}", "v")`);
    } catch (e) {
      return e as Error;
    }
    return null;
  })();
  assert.ok(err);
  assert.ok(err.message.length < 400, `${err.message.length} chars`);
  assert.match(err.message, /… \(100000 chars\)/);
});

/** Milliseconds to parse `text`, best of three (the machine is shared). */
function parseMs(text: string, expectError: boolean): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = process.hrtime.bigint();
    try {
      parseKamailioCfg(text, 'long.cfg');
      assert.ok(!expectError, 'expected an error');
    } catch (err) {
      assert.ok(expectError && err instanceof KamailioCfgError, String(err));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
  }
  return best;
}

test('linear time: a 1 MB line parses in under 100 ms, whatever it holds', () => {
  const MB = 1024 * 1024;
  const spaces = ' '.repeat(MB);
  const cases: Array<[string, string, boolean]> = [
    ['spaces in a value', `modparam("ptimer", "loop", "timer=a;route=${spaces}x")`, false],
    ['a long string', `modparam("ptimer", "timer", "${'n'.repeat(MB)}")`, false],
    ['a long comment', `# ${'#!ifdef '.repeat(MB / 8)}`, false],
    ['a long global parameter', `listen=${'a'.repeat(MB)}`, false],
    ['escapes', `modparam("ptimer", "timer", "${'\\t'.repeat(MB / 2)}")`, false],
    ['skipped branch', `#!ifdef NO\n${'x !'.repeat(MB / 3)}\n#!endif`, false],
    ['many joined strings', `modparam("ptimer", "timer", ${'"a" '.repeat(MB / 4)})`, false],
    ['many tokens', `modparam("ptimer", "timer", ${'( '.repeat(MB / 2)}`, true],
    ['a long word', `${'w'.repeat(MB)} x`, true],
  ];
  for (const [what, text, error] of cases) {
    const ms = parseMs(text, error);
    assert.ok(ms < 100, `${what}: ${ms.toFixed(1)} ms`);
  }
});

test('linear time: second-route checking and quoted integers on long values', () => {
  const pad = ' '.repeat(40_000);
  const text = `modparam("ptimer", "loop", "timer=a;route=L${pad}")\nmodparam("ptimer", "loop", "timer=a;route=M${pad}")`;
  const ms = parseMs(text, true);
  assert.ok(ms < 100, `${ms.toFixed(1)} ms`);
  assert.ok(parseMs(`modparam("ptimer", "default_nworkers", "${pad}1${pad}x")`, false) < 100);
});
