/** Kamailio-style files as text: line ends, strings and comments, bounds, and linear-time parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KamailioCfgError, parseKamailioCfg } from '../../src/config/kamailio-cfg.js';
import { countStringWork } from '../support/string-work.js';

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
      (err: unknown) =>
        err instanceof KamailioCfgError &&
        err.line === 6 &&
        err.column === 20 &&
        /unknown ptimer parameter "oops"/.test(err.message),
      JSON.stringify(eol),
    );
  }
});

test("strings: double quotes take Kamailio's escapes and may span lines; single quotes are raw", () => {
  const { config } = parseKamailioCfg(
    'modparam("ptimer", "timer", "a\\tb\\x41\\101\\"\\\\\\q")\nmodparam("ptimer", "start", \'x\\ty\')\nmodparam("ptimer", "end", "one\\\ntwo\nthree")',
  );
  assert.deepEqual(config, { timer: ['a\tbAA"\\\\q'], start: ['x\\ty'], end: ['onetwo\nthree'] });
});

test('block comments nest, as in Kamailio', () => {
  assert.deepEqual(parseKamailioCfg('/* a /* b */ still comment */ modparam("ptimer", "timer", "name=a")').config, {
    timer: ['name=a'],
  });
  assert.throws(
    () => parseKamailioCfg('/* a /* b */'),
    /^KamailioCfgError: kamailio\.cfg:1:1: comment \/\* is not closed/,
  );
});

test('a file over 16 MiB is refused before it is read', () => {
  assert.throws(
    () => parseKamailioCfg(' '.repeat(16 * 1024 * 1024 + 1), 'big.cfg'),
    /^KamailioCfgError: big\.cfg:1:1: the file has 16777217 characters/,
  );
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

/**
 * The string work (test/support/string-work.ts) of parsing `text`, per character of it: counted,
 * not timed, so the machine's load cannot make the test pass or fail.
 */
function workPerChar(text: string, expectError: boolean): number {
  const { result: ok, work } = countStringWork(() => {
    try {
      parseKamailioCfg(text, 'long.cfg');
      return !expectError;
    } catch (err) {
      return expectError && err instanceof KamailioCfgError;
    }
  });
  assert.ok(ok, expectError ? 'expected an error' : 'expected no error');
  return work / text.length;
}

/** Linear: a bounded work per character, the same at 1 MB as at 128 kB (a quadratic scan grows 8-fold). */
const WORK_PER_CHAR = 16;

test('linear time: a 1 MB line parses with a bounded work per character, whatever it holds', () => {
  for (const size of [128 * 1024, 1024 * 1024]) {
    const spaces = ' '.repeat(size);
    const cases: Array<[string, string, boolean]> = [
      ['spaces in a value', `modparam("ptimer", "loop", "timer=a;route=${spaces}x")`, false],
      ['a long string', `modparam("ptimer", "timer", "${'n'.repeat(size)}")`, false],
      ['a long comment', `# ${'#!ifdef '.repeat(size / 8)}`, false],
      ['a long global parameter', `listen=${'a'.repeat(size)}`, false],
      ['escapes', `modparam("ptimer", "timer", "${'\\t'.repeat(size / 2)}")`, false],
      ['skipped branch', `#!ifdef NO\n${'x !'.repeat(size / 3)}\n#!endif`, false],
      ['many joined strings', `modparam("ptimer", "timer", ${'"a" '.repeat(size / 4)})`, false],
      ['many tokens', `modparam("ptimer", "timer", ${'( '.repeat(size / 2)}`, true],
      ['a long word', `${'w'.repeat(size)} x`, true],
    ];
    for (const [what, text, error] of cases) {
      const perChar = workPerChar(text, error);
      assert.ok(perChar < WORK_PER_CHAR, `${what} at ${size} chars: ${perChar.toFixed(2)} per char`);
    }
  }
});

test('linear time: second-route checking and quoted integers on long values', () => {
  const pad = ' '.repeat(40_000);
  const text = `modparam("ptimer", "loop", "timer=a;route=L${pad}")\nmodparam("ptimer", "loop", "timer=a;route=M${pad}")`;
  assert.ok(workPerChar(text, true) < WORK_PER_CHAR);
  assert.ok(workPerChar(`modparam("ptimer", "default_nworkers", "${pad}1${pad}x")`, false) < WORK_PER_CHAR);
});
