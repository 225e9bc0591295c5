/**
 * Kamailio-style files on generated text (full count 2,000; `npm run fuzz`): random lines
 * of modparams (ptimer, regex module names, mqueue, htable), preprocessor directives,
 * comments, strings with escapes, route blocks, core statements and noise, joined by LF,
 * CRLF or CR, with random -D defines. parseKamailioCfg and then resolveKamailioCfg either
 * succeed or throw a KamailioCfgError whose message starts `FILE:LINE:COLUMN: ` with a line
 * inside the file; anything else is a crash and fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KamailioCfgError, parseKamailioCfg, resolveKamailioCfg } from '../../src/config/kamailio-cfg.js';
import { fuzzRuns } from '../support/fuzz-scale.js';
import { ConfigErrors, MAX_LISTED_PROBLEMS } from '../../src/config/errors.js';

const FILE = 'fuzz.cfg';
const defineName = fc.constantFrom('A', 'B', 'WITH_FAST', 'IV', 'MOD', 'NW', 'TIMER', 'X_1', 'bad-name', '9X');
const quoted = fc.oneof(
  fc.constantFrom(
    '"ptimer"',
    '"mqueue"',
    '"htable"',
    '"ptimer|tm"',
    '"PT.*"',
    '"pt(imer"',
    '"tm"',
    "'ptimer'",
    '"[[:alpha:]]+"',
  ),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 12 }).map((s) => `"${s}"`),
);
const paramName = fc.constantFrom(
  '"timer"',
  '"start"',
  '"loop"',
  '"end"',
  '"default_interval"',
  '"default_type"',
  '"default_nworkers"',
  '"default_spin"',
  '"default_threads"',
  '"restart_limit"',
  '"startup_timeout"',
  '"command_timeout"',
  '"stuck_after"',
  '"queue"',
  '"table"',
  '"mqueue"',
  '"mqueue_name"',
  '"htable"',
  '"db_url"',
  '"tmer"',
);
const valueText = fc.oneof(
  fc.constantFrom(
    '"name=t;type=3;interval=100ms;nworkers=2;ntasks=10;nslices=5"',
    '"name=t;thread=own;paused=1;limit=50/1s"',
    '"timer=t;route=LOOP"',
    '"timer=t;route=START"',
    '"name=calls;size=100;addmode=2"',
    '"dst_kpi=>size=8;autoexpire=5"',
    '"100ms"',
    '"10m"',
    '"5/60s"',
    '"0"',
    '4',
    '-1',
    '2000',
    '100ms',
    'IV',
    'TIMER',
    'NW',
    '"name=t;" "interval=1s"',
    '"a\\tb\\x41\\101\\\\"',
    "'raw\\t'",
  ),
  quoted,
  fc.integer({ min: -10, max: 5000 }).map(String),
);
const modparam = fc
  .tuple(
    fc.constantFrom('modparam', 'modparamx', 'modparam '),
    quoted,
    paramName,
    valueText,
    fc.constantFrom('', ';', ' ;', ' # c', ' // c', ' /* c */'),
  )
  .map(([m, mod, p, v, tail]) => `${m}(${mod}, ${p}, ${v})${tail}`);
const ptimerLine = fc.tuple(paramName, valueText).map(([p, v]) => `modparam("ptimer", ${p}, ${v})`);
const directive = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('#!define', '#!def', '#!trydef', '#!trydefine', '#!redefine', '#!redef', '!!define'),
      defineName,
      fc.constantFrom('', ' "1s"', ' 4', ' "name=t"', ' IV', ' \\'),
    )
    .map(([d, n, v]) => `${d} ${n}${v}`),
  fc
    .tuple(fc.constantFrom('#!ifdef', '#!ifndef', '!!ifdef', '#!undef', '#!tryundef', '#!ifexp'), defineName)
    .map(([d, n]) => `${d} ${n}`),
  fc.constantFrom(
    '#!else',
    '#!endif',
    '!!else',
    '!!endif',
    '#!KAMAILIO',
    '#!subst "/a/b/"',
    '#!substdef "/X/y/"',
    '#!defenv HOME',
    '#!include_file "x.cfg"',
    '#!foo',
    '!!foo',
    '#!',
    '#!ifdef',
    '#!endif x',
  ),
);
const other = fc.constantFrom(
  'loadmodule "ptimer.so"',
  'loadmodule("mqueue.so")',
  'mpath="/usr/lib/kamailio/modules/"',
  'cfgengine "lua"',
  'children=4',
  'listen=udp:127.0.0.1:5060 advertise 192.0.2.1:5060',
  'include_file "other.cfg"',
  'request_route {',
  'route[QUEUE_LOOP] {',
  '  if (is_method("INVITE")) { mq_add("calls", "$ci", "$ru"); }',
  '}',
  '{',
  '/* open comment',
  'still */',
  '/* a /* nested */ comment */',
  '# comment with modparam("ptimer", "timer", "name=ghost")',
  '// comment',
  '"unclosed',
  "'unclosed",
  'xlog("hello");',
  ';',
  '',
);
const noise = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc
    .array(
      fc.constantFrom(
        '"',
        "'",
        '(',
        ')',
        '{',
        '}',
        '[',
        ']',
        ';',
        ',',
        '=',
        '#',
        '!',
        '/',
        '*',
        '\\',
        ' ',
        'a',
        '1',
        '\n',
        '\r',
        '\t',
      ),
      { maxLength: 20 },
    )
    .map((cs) => cs.join('')),
);
const line = fc.oneof(
  { weight: 4, arbitrary: ptimerLine },
  { weight: 3, arbitrary: modparam },
  { weight: 3, arbitrary: directive },
  { weight: 3, arbitrary: other },
  { weight: 1, arbitrary: noise },
);
const file = fc
  .tuple(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean())
  .map(([lines, eol, bom]) => ({
    text: `${bom ? '\ufeff' : ''}${lines.join(eol)}`,
    lines: lines.length,
  }));
const defines = fc.dictionary(
  defineName,
  fc.oneof(fc.constant(true as const), fc.constantFrom('"5ms"', '4', '"name=d"', '', 'x y')),
  { maxKeys: 3 },
);

test('Kamailio-style files: generated text parses and resolves, or fails with a KamailioCfgError at FILE:LINE:COLUMN', () => {
  const runs = fuzzRuns(2_000);
  let cases = 0;
  let resolved = 0;
  let rejected = 0;
  fc.assert(
    fc.property(file, defines, ({ text, lines }, defs) => {
      cases++;
      try {
        resolveKamailioCfg(parseKamailioCfg(text, FILE, { defines: defs }));
        resolved++;
      } catch (error) {
        if (!(error instanceof KamailioCfgError)) throw error;
        rejected++;
        const match = /^fuzz\.cfg:(\d+):(\d+): \S/.exec(error.message);
        assert.ok(match, `FILE:LINE:COLUMN first: ${error.message.slice(0, 200)}`);
        const lineNo = Number(match[1]);
        // A generated line may hold line ends of its own (noise), so the bound counts them.
        const maxLine = text.split(/\r\n|\r|\n/).length;
        assert.ok(lineNo >= 1 && lineNo <= Math.max(maxLine, lines, 1), `line ${lineNo} of ${maxLine}`);
        assert.equal(error.line, lineNo);
        assert.ok(Number(match[2]) >= 1);
        // Several problems come together (ConfigErrors), each located and as readable as one alone.
        const problems = error.configError instanceof ConfigErrors ? error.configError.errors.length : 1;
        assert.ok(
          error.message.length <= 2_000 * Math.min(problems, MAX_LISTED_PROBLEMS),
          `a readable message (${error.message.length} chars)`,
        );
        if (problems > 1)
          assert.equal(
            error.message.match(/^ {2}- fuzz\.cfg:\d+:\d+: \S/gm)?.length,
            Math.min(problems, MAX_LISTED_PROBLEMS),
          );
      }
    }),
    { numRuns: runs },
  );
  assert.equal(cases, runs);
  console.log(`kamailio-cfg fuzz: ${cases} cases, 0 crashes (${resolved} resolved, ${rejected} KamailioCfgErrors)`);
});
