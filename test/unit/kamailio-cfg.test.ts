import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseKamailioCfg, KamailioCfgError } from '../../src/config/kamailio-cfg.js';
import { ConfigError } from '../../src/config/errors.js';

const fixture = (name: string) => new URL(`../fixtures/kamailio/${name}`, import.meta.url);
const parseFixture = (name: string) => parseKamailioCfg(readFileSync(fixture(name), 'utf8'), name);

function parseError(text: string): KamailioCfgError {
  try {
    parseKamailioCfg(text, 'x.cfg');
  } catch (err) {
    assert.ok(err instanceof KamailioCfgError, String(err));
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail(`no error for ${text}`);
}

test('7.1: the ptimer lines become parameters, the mqueue line a queue; loadmodule is noticed once each', () => {
  const { config, notices, origins } = parseFixture('7.1-call-rate.cfg');
  assert.deepEqual(config, {
    queue: ['name=call_queue'],
    timer: ['name=queue_timer;type=3;interval=100ms;nworkers=8;ntasks=1000;nslices=80'],
    start: ['timer=queue_timer;route=QUEUE_START'],
    loop: ['timer=queue_timer;route=QUEUE_LOOP'],
  });
  assert.deepEqual(notices, [
    '7.1-call-rate.cfg:2: loadmodule "mqueue.so" ignored',
    '7.1-call-rate.cfg:3: loadmodule "ptimer.so" ignored',
  ]);
  assert.deepEqual(origins, {
    queue: [{ line: 4, column: 30 }],
    timer: [{ line: 5, column: 29 }],
    start: [{ line: 6, column: 29 }],
    loop: [{ line: 7, column: 28 }],
  });
});

test('7.2 and 7.3: repeated parameters keep their order; integer values of other modules are fine', () => {
  const two = parseFixture('7.2-per-customer.cfg');
  assert.deepEqual(
    two.config.timer,
    [0, 1, 2].map((i) => `name=customer_${i};type=3;interval=100ms;nworkers=1;ntasks=8;nslices=10`),
  );
  assert.deepEqual(
    two.config.loop,
    [0, 1, 2].map((i) => `timer=customer_${i};route=QUEUE_LOOP`),
  );
  assert.deepEqual(two.config.queue, ['name=customer_0', 'name=customer_1', 'name=customer_2']);
  assert.deepEqual(two.notices, []);
  const three = parseFixture('7.3-adaptive-routing.cfg');
  assert.deepEqual(three.config.timer, ['name=route_optimizer;type=0;interval=500ms;nworkers=3']);
  assert.deepEqual(three.config.table, ['dst_kpi=>size=8']);
  assert.deepEqual(
    three.notices.map((n) => n.replace(/^[^:]+:\d+: /, '')),
    [
      'loadmodule "dispatcher.so" ignored',
      'loadmodule "htable.so" ignored',
      'modparam for module "dispatcher" ignored',
    ],
  );
});

test('7.4 and 7.5 as written: a second loop route for a timer is an error naming both lines', () => {
  assert.throws(
    () => parseFixture('7.4-queue-control.as-written.cfg'),
    (err: unknown) => {
      assert.ok(err instanceof KamailioCfgError);
      assert.equal(err.line, 6);
      assert.match(
        err.message,
        /^7\.4-queue-control\.as-written\.cfg:6:\d+: second loop route for timer "normal_timer" \("HANDLE_QUEUE"\); the first is "NORMAL_QUEUE_START" on line 5, and a timer has one loop route; if the route on line 5 is meant to run once when the worker starts, write modparam\("ptimer", "start", \.\.\.\) there$/,
      );
      return true;
    },
  );
  assert.throws(
    () => parseFixture('7.5-hot-reload.as-written.cfg'),
    /:4:\d+: second loop route for timer "t1" \("HANDLE_DATA"\); the first is "GET_DATA" on line 3/,
  );
  // With the first line as `start`, as meant, they pass.
  assert.deepEqual(parseFixture('7.4-queue-control.cfg').config.start, [
    'timer=normal_timer;route=NORMAL_QUEUE_START',
    'timer=holiday_timer;route=HOLIDAY_QUEUE_START',
  ]);
  assert.deepEqual(parseFixture('7.5-hot-reload.cfg').config, {
    timer: ['name=t1;type=3;interval=100ms;nslices=10'],
    start: ['timer=t1;route=GET_DATA'],
    loop: ['timer=t1;route=HANDLE_DATA'],
  });
});

test('defaults: integers bare, strings quoted; the unquoted and misspelt examples are syntax errors with their line', () => {
  const { config } = parseFixture('defaults.cfg');
  assert.equal(config.default_type, 3);
  assert.equal(config.default_interval, '10s');
  assert.equal(config.default_nworkers, 8);
  assert.throws(
    () => parseFixture('defaults-unquoted.cfg'),
    /^KamailioCfgError: defaults-unquoted\.cfg:3:40: modparam\("ptimer", "default_interval", 100ms\): 100ms is not a value; a value is a string in double quotes \(e\.g\. "100ms"\) or an integer$/,
  );
  assert.throws(
    () => parseFixture('defaults-misspelt.cfg'),
    /^KamailioCfgError: defaults-misspelt\.cfg:4:40: .*10ous is not a value/,
  );
});

test('section 8 verbatim: the first syntax error is reported (line 49), before the second-loop-route error', () => {
  const err = (() => {
    try {
      parseFixture('section8-verbatim.cfg');
    } catch (e) {
      return e as KamailioCfgError;
    }
    return null;
  })();
  assert.ok(err);
  assert.equal(err.line, 49);
  assert.match(err.message, /100ms is not a value/);
});

test('a full kamailio.cfg: values over lines, joined strings, comments, route blocks, globals, directives', () => {
  const { config, notices } = parseFixture('full-kamailio.cfg');
  assert.deepEqual(config, {
    queue: ['name=call_queue'],
    timer: ['name=queue_timer;type=3;interval=100ms;nworkers=8;ntasks=1000;nslices=80'],
    start: ['timer=queue_timer;route=QUEUE_START'],
    loop: ['timer=queue_timer;route=QUEUE_LOOP'],
  });
  const text = notices.map((n) => n.replace(/^full-kamailio\.cfg:/, ''));
  assert.deepEqual(text, [
    '8: global parameter debug ignored',
    '9: global parameter children ignored',
    '10: global parameter listen ignored',
    '12: mpath "/usr/lib/x86_64-linux-gnu/kamailio/modules/" ignored',
    '13: loadmodule "mqueue.so" ignored',
    '14: loadmodule "ptimer.so" ignored',
    '27: request_route block ignored: routes come from the routes module (--routes)',
    '34: route[QUEUE_START] block ignored: routes come from the routes module (--routes)',
    '38: route[QUEUE_LOOP] block ignored: routes come from the routes module (--routes)',
  ]);
});

test('comments and strings: // and # and /* */ outside strings only; escapes', () => {
  const { config } = parseKamailioCfg(
    [
      '# a comment with modparam("ptimer", "timer", "name=ghost")',
      '// modparam("ptimer", "timer", "name=ghost2")',
      '/* modparam("ptimer", "timer", "name=ghost3")',
      '   still a comment */',
      'modparam("ptimer", "timer", "name=a;interval=1s") // trailing',
      "modparam('ptimer', 'loop', 'timer=a;route=L#1//x')",
      'modparam("ptimer", "end", "timer=a;route=\\"E\\"")',
    ].join('\n'),
  );
  assert.deepEqual(config, {
    timer: ['name=a;interval=1s'],
    loop: ['timer=a;route=L#1//x'],
    end: ['timer=a;route="E"'],
  });
});

test('a single parameter set twice: the last counts, with a notice', () => {
  const { config, notices } = parseKamailioCfg(
    'modparam("ptimer", "default_interval", "1s")\n\nmodparam("ptimer", "default_interval", "2s")\n',
    'd.cfg',
  );
  assert.equal(config.default_interval, '2s');
  assert.deepEqual(notices, ['d.cfg:3: default_interval set again (first set on line 1); the last value counts']);
});

test('quoted integers for integer parameters; a bare integer for default_interval means seconds', () => {
  const { config } = parseKamailioCfg(
    'modparam("ptimer", "default_nworkers", "4")\nmodparam("ptimer", "default_type", "sync")\nmodparam("ptimer", "default_interval", 2)',
  );
  assert.deepEqual(config, { default_nworkers: 4, default_type: 'sync', default_interval: 2 });
});

test('syntax errors name file, line and column', () => {
  const cases: Array<[string, RegExp]> = [
    [
      'modparam("ptimer", "timer", 5)',
      /^x\.cfg:1:29: modparam\("ptimer", "timer", \.\.\.\) takes a string in double quotes, not the integer 5$/,
    ],
    [
      'modparam("ptimer", "tmer", "name=a")',
      /^x\.cfg:1:20: unknown ptimer parameter "tmer"; the parameters are default_type, default_interval, default_nworkers, default_spin, default_threads, restart_limit, startup_timeout, command_timeout, stuck_after, max_heap, timer, start, loop, end, queue, table, cluster, limiter$/,
    ],
    ['\nmodparam("ptimer" "timer", "x")', /^x\.cfg:2:19: expected "," after the module name, found "timer"$/],
    ['modparam("ptimer", "timer", "x"', /^x\.cfg:1:32: expected "\)" after the value/],
    [
      'modparam(ptimer, "timer", "x")',
      /^x\.cfg:1:10: expected the module name as a string in double quotes, found ptimer$/,
    ],
    [
      'modparam("ptimer", "timer", "name=a)\n\n',
      /^x\.cfg:1:29: string opened with " is not closed: it runs to the end of the file/,
    ],
    ["\nmodparam('ptimer', 'timer', 'name=a", /^x\.cfg:2:29: string opened with ' is not closed/],
    ['\n\n/* open', /^x\.cfg:3:1: comment \/\* is not closed/],
    ['route[X] {\n if (a) {\n', /^x\.cfg:1:1: the route\[X\] block is not closed/],
    ['xlog("hello");', /^x\.cfg:1:1: unexpected xlog; expected modparam/],
    ['modparam("ptimer", "timer", yes)', /^x\.cfg:1:29: .*yes is not a value/],
    ['}', /^x\.cfg:1:1: unexpected "}"/],
  ];
  for (const [text, message] of cases) assert.match(parseError(text).message, message, text);
});

test('empty and comment-only files parse to an empty config', () => {
  const empty = { config: {}, notices: [], file: 'kamailio.cfg', origins: {} };
  assert.deepEqual(parseKamailioCfg(''), empty);
  assert.deepEqual(parseKamailioCfg('#!KAMAILIO\n# nothing\n'), empty);
  assert.deepEqual(parseKamailioCfg('\ufeff#!KAMAILIO\r\n// nothing\r\n/* nor /* here */ */'), empty);
});
