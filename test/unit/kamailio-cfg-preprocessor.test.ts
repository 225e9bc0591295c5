/** The preprocessor of Kamailio-style files, evaluated as Kamailio's cfg.lex evaluates it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  KamailioCfgError,
  definesFromFlags,
  parseDefineFlag,
  parseKamailioCfg,
  type KamailioCfgOptions,
} from '../../src/config/kamailio-cfg.js';
import { ConfigError } from '../../src/config/errors.js';
import { countStringWork } from '../support/string-work.js';

const parse = (text: string, options?: KamailioCfgOptions) => parseKamailioCfg(text, 'p.cfg', options);

function parseError(text: string, options?: KamailioCfgOptions): KamailioCfgError {
  try {
    parse(text, options);
  } catch (err) {
    assert.ok(err instanceof KamailioCfgError, String(err));
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

const FAST_OR_SLOW = [
  '#!ifdef WITH_FAST',
  'modparam("ptimer", "timer", "name=t;interval=10ms")',
  '#!else',
  'modparam("ptimer", "timer", "name=t;interval=10s")',
  '#!endif',
].join('\n');

test("#!ifdef takes one branch: the issue's WITH_FAST case gives 10ms with the define, 10s without", () => {
  assert.deepEqual(parse(FAST_OR_SLOW).config.timer, ['name=t;interval=10s']);
  assert.deepEqual(parse(FAST_OR_SLOW, { defines: { WITH_FAST: true } }).config.timer, ['name=t;interval=10ms']);
  assert.deepEqual(parse(`#!define WITH_FAST\n${FAST_OR_SLOW}`).config.timer, ['name=t;interval=10ms']);
});

test('#!ifndef is the negation; nesting follows every enclosing branch', () => {
  const text = [
    '#!ifndef A',
    'modparam("ptimer", "timer", "name=notA")',
    '#!ifdef B',
    'modparam("ptimer", "timer", "name=notA_B")',
    '#!else',
    'modparam("ptimer", "timer", "name=notA_notB")',
    '#!endif',
    '#!else',
    '#!ifdef B',
    'modparam("ptimer", "timer", "name=A_B")',
    '#!endif',
    '#!endif',
    'modparam("ptimer", "timer", "name=always")',
  ].join('\n');
  const timers = (defines: Record<string, true>) => parse(text, { defines }).config.timer;
  assert.deepEqual(timers({}), ['name=notA', 'name=notA_notB', 'name=always']);
  assert.deepEqual(timers({ B: true }), ['name=notA', 'name=notA_B', 'name=always']);
  assert.deepEqual(timers({ A: true }), ['name=always']);
  assert.deepEqual(timers({ A: true, B: true }), ['name=A_B', 'name=always']);
});

test('in a branch not taken, nothing is read: not even syntax errors or unclosed strings', () => {
  const text =
    '#!ifdef NEVER\nthis is "not closed\nmodparam("ptimer", "tmer", 1)\n#!endif\nmodparam("ptimer", "timer", "name=a")';
  assert.deepEqual(parse(text).config, { timer: ['name=a'] });
});

test('a define stands for its value where its name is a word; a define without a value for nothing', () => {
  const text = [
    '#!define IV "100ms"',
    '#!define NW 4',
    '#!define MOD "ptimer"',
    '#!define TIMER "name=t;" \\',
    '    "nworkers=2"',
    '#!define EMPTY',
    'modparam(MOD, "default_interval", IV) EMPTY',
    'modparam("ptimer", "default_nworkers", NW)',
    'modparam("ptimer", "timer", TIMER)',
    'modparam("ptimer", "loop", "timer=t;route=IV")', // inside a string: not replaced
  ].join('\n');
  assert.deepEqual(parse(text).config, {
    default_interval: '100ms',
    default_nworkers: 4,
    timer: ['name=t;nworkers=2'],
    loop: ['timer=t;route=IV'],
  });
});

test('#!trydef defines only if not yet defined; #!redefine replaces; #!undef removes', () => {
  const text = (pre: string) => `${pre}\n#!trydef IV "1s"\nmodparam("ptimer", "default_interval", IV)`;
  assert.equal(parse(text('')).config.default_interval, '1s');
  assert.equal(parse(text(''), { defines: { IV: '"5ms"' } }).config.default_interval, '5ms');
  assert.equal(parse(text('#!define IV "2s"')).config.default_interval, '2s');
  assert.equal(
    parse('#!define IV "2s"\n#!redefine IV "3s"\nmodparam("ptimer", "default_interval", IV)').config.default_interval,
    '3s',
  );
  assert.equal(
    parse('#!define IV "2s"\n#!redef IV "4s"\nmodparam("ptimer", "default_interval", IV)').config.default_interval,
    '4s',
  );
  assert.equal(parse('#!redefine IV "6s"\nmodparam("ptimer", "default_interval", IV)').config.default_interval, '6s');
  const undefined_ = parse('#!define A\n#!undef A\n#!ifdef A\nmodparam("ptimer", "timer", "name=a")\n#!endif');
  assert.deepEqual(undefined_.config, {});
  assert.deepEqual(parse('#!tryundef NEVER_DEFINED').config, {});
});

test('the short and !! spellings are the same directives', () => {
  const text =
    '!!def X\n!!ifdef X\nmodparam("ptimer", "timer", "name=a")\n!!else\nmodparam("ptimer", "timer", "name=b")\n!!endif';
  assert.deepEqual(parse(text).config.timer, ['name=a']);
  assert.deepEqual(parse('#!trydefine X 1\n#!ifndef X\nmodparam("ptimer", "timer", "name=b")\n#!endif').config, {});
});

test('defining a name twice is an error, as in Kamailio; also a -D name the file defines again', () => {
  assert.match(
    parseError('#!define A\n#!define A').message,
    /^p\.cfg:2:1: #!define A: A is already defined .*use #!redefine to change it, or #!trydef/,
  );
  assert.match(
    parseError('#!define WITH_FAST', { defines: { WITH_FAST: true } }).message,
    /^p\.cfg:1:1: #!define WITH_FAST: WITH_FAST is already defined \(by an earlier #!define or by -D\)/,
  );
  assert.match(parseError('#!undef A').message, /^p\.cfg:1:1: #!undef A: A is not defined/);
});

test('directive errors name file, line and column', () => {
  const cases: Array<[string, RegExp]> = [
    [
      '\n#!ifdef A\nmodparam("ptimer", "timer", "name=a")',
      /^p\.cfg:2:1: #!ifdef A is not closed: no #!endif before the end of the file$/,
    ],
    ['#!ifdef A-B\n#!endif', /^p\.cfg:1:10: #!ifdef A-\.\.\.: "-" is not allowed in a define name/],
    ['#!ifdef\n#!endif', /^p\.cfg:1:1: #!ifdef needs a space and then a name/],
    ['#!ifdef 9A\n#!endif', /^p\.cfg:1:9: #!ifdef: expected a name .*found "9A"/],
    ['#!ifdef A B\n#!endif', /^p\.cfg:1:11: unexpected "B" after #!ifdef A/],
    ['#!ifdef A\n#!else junk\n#!endif', /^p\.cfg:2:8: unexpected "junk" after #!else/],
    ['#!ifexp KAMAILIO_VERSION > 5\n#!endif', /^p\.cfg:1:1: #!ifexp is not supported/],
    ['#!defexp X 1+1', /^p\.cfg:1:1: #!defexp is not supported/],
    ['!!foo', /^p\.cfg:1:1: unknown preprocessor directive !!foo/],
    [
      '#!define LOOP LOOP\nmodparam("ptimer", "timer", LOOP)',
      /^p\.cfg:2:29: define LOOP expands into defines more than 16 levels deep/,
    ],
    [
      '#!define BAD "open\nmodparam("ptimer", "timer", BAD)',
      /^p\.cfg:2:29: in the value of a define: string opened with " is not closed/,
    ],
  ];
  for (const [text, message] of cases) assert.match(parseError(text).message, message, text);
});

test('an exponential chain of defines stops at the expansion budget', () => {
  const lines = ['#!define D0 "x"'];
  for (let i = 1; i <= 15; i++) lines.push(`#!define D${i} D${i - 1} D${i - 1} D${i - 1} D${i - 1}`);
  lines.push('modparam("ptimer", "timer", D15)');
  // The budget bounds the work, counted rather than timed: a few operations per budgeted character.
  const { result: error, work } = countStringWork(() => parseError(lines.join('\n')));
  assert.match(error.message, /defines expand to more than 4194304 characters in all/);
  assert.ok(work < 16 * 4194304, `${work} string operations`);
});

test('stray #!else and #!endif are noticed, as Kamailio warns; nesting is bounded', () => {
  assert.deepEqual(parse('#!endif\n#!else').notices, [
    'p.cfg:1: #!endif without #!ifdef or #!ifndef ignored (Kamailio warns about it too)',
    'p.cfg:2: #!else without #!ifdef or #!ifndef ignored (Kamailio warns about it too)',
  ]);
  assert.match(
    parseError('#!ifdef A\n'.repeat(513)).message,
    /^p\.cfg:513:1: #!ifdef A: #!ifdef nested more than 512 deep/,
  );
  assert.deepEqual(parse(`${'#!ifdef A\n'.repeat(512)}${'#!endif\n'.repeat(512)}`).config, {});
});

test('#!subst, #!substdef, #!defenv and #!include_file are skipped with a notice; other #!words are comments', () => {
  const { config, notices } = parse(
    [
      '#!KAMAILIO',
      '#!subst "/a/b/"',
      '#!substdef "/ID/v/"',
      '#!defenv HOME',
      '#!include_file "extra.cfg"',
      '#!nonsense here',
      'modparam("ptimer", "timer", "name=a")',
    ].join('\n'),
  );
  assert.deepEqual(config, { timer: ['name=a'] });
  assert.deepEqual(notices, [
    'p.cfg:2: #!subst "/a/b/" skipped (not evaluated: strings are not substituted, and a name it would define stays undefined)',
    'p.cfg:3: #!substdef "/ID/v/" skipped (not evaluated: strings are not substituted, and a name it would define stays undefined)',
    'p.cfg:4: #!defenv HOME skipped (not evaluated: the name it would define stays undefined)',
    'p.cfg:5: #!include_file "extra.cfg" skipped (not followed: put the ptimer modparam lines in this file)',
    'p.cfg:6: #!nonsense is not a preprocessor directive: read as a comment, as Kamailio does',
  ]);
});

test('directives inside strings and comments are text; inside a route block they count', () => {
  const text = [
    'modparam("ptimer", "timer", "name=a;#!ifdef X")',
    '# #!ifdef X',
    '/* #!ifdef X */',
    'request_route {',
    '#!ifdef WITH_AUTH',
    '  if (!auth()) { exit; }',
    '#!endif',
    '}',
  ].join('\n');
  assert.deepEqual(parse(text).config, { timer: ['name=a;#!ifdef X'] });
  assert.deepEqual(parse(text, { defines: { WITH_AUTH: true } }).config, { timer: ['name=a;#!ifdef X'] });
});

test('the full kamailio.cfg fixture with and without its define', () => {
  const text = readFileSync(new URL('../fixtures/kamailio/ifdef-kamailio.cfg', import.meta.url), 'utf8');
  const plain = parseKamailioCfg(text, 'ifdef-kamailio.cfg');
  const fast = parseKamailioCfg(text, 'ifdef-kamailio.cfg', { defines: definesFromFlags(['WITH_FAST']) });
  assert.deepEqual(plain.config.timer, ['name=shaper;type=3;interval=100ms;ntasks=50;nslices=10']);
  assert.deepEqual(fast.config.timer, ['name=shaper;type=3;interval=10ms;ntasks=5;nslices=10']);
  assert.deepEqual(plain.config.default_nworkers, 2);
  assert.ok(
    plain.notices.some((n) => /core statement cfgengine "native" ignored/.test(n)),
    plain.notices.join('\n'),
  );
});

test('parseDefineFlag: NAME or NAME=VALUE; NAME= is NAME without a value', () => {
  assert.deepEqual(parseDefineFlag('WITH_FAST'), { name: 'WITH_FAST', value: true });
  assert.deepEqual(parseDefineFlag('IV="10ms"'), { name: 'IV', value: '"10ms"' });
  assert.deepEqual(parseDefineFlag('N=4'), { name: 'N', value: '4' });
  assert.deepEqual(parseDefineFlag('A=b=c'), { name: 'A', value: 'b=c' });
  assert.deepEqual(parseDefineFlag('E='), { name: 'E', value: true });
  for (const bad of ['', '=1', '9A', 'A-B', 'A B', 'A=1\n2', `${'A'.repeat(300)}`]) {
    assert.throws(
      () => parseDefineFlag(bad),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith('-D: ') &&
        /expected NAME or NAME=VALUE|a value of at most/.test(err.message),
      bad,
    );
  }
  assert.deepEqual(definesFromFlags(['A', 'B=2']), Object.assign(Object.create(null), { A: true, B: '2' }));
  assert.throws(() => definesFromFlags(['A', 'A=1']), /^ConfigError: -D: "A=1" is not valid; A is defined twice/);
});

test('the defines option is checked: names, values, count', () => {
  assert.throws(
    () => parse('', { defines: { 'bad name': true } }),
    (err: unknown) => err instanceof KamailioCfgError && /^p\.cfg:1:1: defines: "bad name"/.test(err.message),
  );
  assert.throws(
    () => parse('', { defines: { A: 5 as unknown as string } }),
    /^KamailioCfgError: p\.cfg:1:1: defines\.A: 5 is not valid/,
  );
  const many = Object.fromEntries(Array.from({ length: 513 }, (_, i) => [`D${i}`, true as const]));
  assert.throws(() => parse('', { defines: many }), /at most 512 defines/);
});
