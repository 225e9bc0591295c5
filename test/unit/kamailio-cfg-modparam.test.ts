/**
 * modparam in Kamailio-style files: module names as Kamailio's regexes, mqueue and htable
 * definitions, core statements, and value errors located at their modparam line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RUNTIME } from '../support/config-defaults.js';
import {
  KamailioCfgError,
  locateConfigError,
  parseKamailioCfg,
  resolveKamailioCfg,
} from '../../src/config/kamailio-cfg.js';
import { ConfigError } from '../../src/config/errors.js';

const parse = (text: string) => parseKamailioCfg(text, 'm.cfg');

function resolveError(text: string): KamailioCfgError {
  const parsed = parse(text);
  try {
    resolveKamailioCfg(parsed);
  } catch (err) {
    assert.ok(err instanceof KamailioCfgError, String(err));
    assert.ok(err.configError instanceof ConfigError);
    return err;
  }
  assert.fail(`no error for ${text}`);
}

test('a module name is a case-insensitive regex anchored as ^(NAME)$, as Kamailio reads it', () => {
  const timers = (module: string) => parse(`modparam("${module}", "timer", "name=a")`).config.timer;
  for (const module of [
    'ptimer',
    'PTimer',
    'ptimer|tm',
    'tm|ptimer',
    'p.imer',
    'pt.*',
    '(ptimer)',
    '[p]timer',
    'p[[:alpha:]]imer',
  ]) {
    assert.deepEqual(timers(module), ['name=a'], module);
  }
  for (const module of ['ptime', 'ptimerx', 'xptimer', 'tm', 'p[[:digit:]]imer']) {
    assert.equal(timers(module), undefined, module);
  }
  const { notices } = parse('modparam("ptimer|tm", "timer", "name=a")');
  assert.deepEqual(notices, [
    'm.cfg:1: modparam module name "ptimer|tm" is a regular expression (as in Kamailio): it names ptimer',
  ]);
  assert.deepEqual(parse('modparam("tm", "fr_timer", 30000)').notices, ['m.cfg:1: modparam for module "tm" ignored']);
});

test('a module regex that does not compile, or is too long, is an error at the module name', () => {
  assert.throws(
    () => parse('\nmodparam("pt(imer", "timer", "name=a")'),
    /^KamailioCfgError: m\.cfg:2:10: the module name is a regular expression \(as in Kamailio\), and this one does not compile/,
  );
  assert.throws(
    () => parse(`modparam("${'a|'.repeat(200)}b", "timer", "x")`),
    /a module name of at most 256 characters/,
  );
});

test('a regex naming ptimer applies a ptimer parameter, and an unknown one is an error as in Kamailio', () => {
  assert.throws(
    () => parse('modparam(".*", "fr_timer", 30)'),
    /^KamailioCfgError: m\.cfg:1:16: unknown ptimer parameter "fr_timer"/,
  );
});

test("mqueue's mqueue and mqueue_name define queues; htable's htable defines tables; their other params are noticed", () => {
  const { config, notices } = parse(
    [
      'modparam("mqueue", "mqueue", "name=calls;size=100;addmode=2")',
      'modparam("mqueue", "mqueue_name", "other")',
      'modparam("mqueue", "db_url", "mysql://x")',
      'modparam("htable", "htable", "dst_kpi=>size=8;autoexpire=60")',
      'modparam("htable", "htable", "name=gw;size=4")',
      'modparam("htable", "db_url", "mysql://x")',
    ].join('\r\n'),
  );
  assert.deepEqual(config, {
    queue: ['name=calls;size=100;addmode=2', 'name=other'],
    table: ['dst_kpi=>size=8;autoexpire=60', 'name=gw;size=4'],
  });
  assert.deepEqual(notices, [
    'm.cfg:3: modparam("mqueue", "db_url") ignored: ptimer\'s queues are defined by the mqueue parameter alone',
    'm.cfg:6: modparam("htable", "db_url") ignored: ptimer\'s tables are defined by the htable parameter alone',
  ]);
  const resolved = resolveKamailioCfg(
    parse(
      'modparam("mqueue", "mqueue", "name=calls;size=100;addmode=2")\nmodparam("htable", "htable", "dst_kpi=>size=8")',
    ),
  );
  assert.deepEqual(resolved.queues, [{ name: 'calls', size: 100, maxBytes: 16 * 1024 * 1024, addmode: 2 }]);
  assert.deepEqual(resolved.tables, [{ name: 'dst_kpi', size: 8, maxEntries: 256 * 64, autoexpire: 0 }]);
  assert.throws(
    () => parse('modparam("mqueue", "mqueue", 5)'),
    /m\.cfg:1:30: modparam\("mqueue", "mqueue", \.\.\.\) takes a string in double quotes, not the integer 5/,
  );
});

test("ptimer's own runtime parameters, integers bare or quoted", () => {
  const { config } = parse(
    [
      'modparam("ptimer", "default_threads", 4)',
      'modparam("ptimer", "restart_limit", "3/10s")',
      'modparam("ptimer", "startup_timeout", "2s")',
      'modparam("ptimer", "command_timeout", 1)',
      'modparam("ptimer", "stuck_after", "20")',
    ].join('\n'),
  );
  assert.deepEqual(config, {
    default_threads: 4,
    restart_limit: '3/10s',
    startup_timeout: '2s',
    command_timeout: 1,
    stuck_after: 20,
  });
  assert.deepEqual(
    resolveKamailioCfg(
      parse(['modparam("ptimer", "default_threads", 4)', 'modparam("ptimer", "restart_limit", "3/10s")'].join('\n')),
    ).runtime,
    { ...DEFAULT_RUNTIME, threads: 4, restartLimit: { deaths: 3, windowMs: 10_000 } },
  );
});

test('cfgengine and other core statements are skipped with a notice', () => {
  const { config, notices } = parse(
    'cfgengine "lua"\nloadmodule "app_lua.so"\nmodparam("app_lua", "load", "/etc/kamailio/kamailio.lua")\nmodparam("ptimer", "timer", "name=a")\nlisten=udp:127.0.0.1:5060\n',
  );
  assert.deepEqual(config, { timer: ['name=a'] });
  assert.deepEqual(notices, [
    'm.cfg:1: core statement cfgengine "lua" ignored: routes come from the routes module (--routes), whatever the engine',
    'm.cfg:2: loadmodule "app_lua.so" ignored',
    'm.cfg:3: modparam for module "app_lua" ignored',
    'm.cfg:5: global parameter listen ignored',
  ]);
});

test('value errors from resolveConfig carry FILE:LINE:COLUMN of the modparam value that gave them', () => {
  const cases: Array<[string, RegExp]> = [
    [
      '# timers\nmodparam("ptimer", "timer", "name=a")\nmodparam("ptimer", "timer", "name=b;interval=10m")\nmodparam("ptimer", "loop", "timer=a;route=L")',
      /^m\.cfg:3:29: timer "b": interval: "10m" is not valid; .*"m" is not a unit/,
    ],
    [
      'modparam("ptimer", "default_nworkers", 2000)',
      /^m\.cfg:1:40: default_nworkers: 2000 is not valid; expected a positive integer \(1 to 1024\)$/,
    ],
    [
      'modparam("ptimer", "default_interval", "1s")\n\nmodparam("ptimer", "default_interval", "0")',
      /^m\.cfg:3:40: default_interval: "0" is not valid/,
    ],
    [
      'modparam("ptimer", "timer", "name=a")\nmodparam("ptimer", "loop", "timer=zz;route=L")',
      /^m\.cfg:2:28: loop\[0\]: timer: "zz" is not valid; no timer of that name is defined/,
    ],
    ['\n\nmodparam("ptimer", "timer", "name=lonely")', /^m\.cfg:3:29: timer "lonely": no loop route/],
    [
      'modparam("mqueue", "mqueue", "name=q")\nmodparam("mqueue", "mqueue", "name=q;size=0")',
      /^m\.cfg:2:30: queue "q": size: "0" is not valid/,
    ],
    [
      'modparam("mqueue", "mqueue", "name=q")\nmodparam("mqueue", "mqueue", "name=q")',
      /^m\.cfg:2:30: queue\[1\]: name: "q" is not valid; queue "q" is already defined \(queue\[0\]\)/,
    ],
    [
      'modparam("htable", "htable", "t=>size=21")',
      /^m\.cfg:1:30: table "t": size: "21" is not valid; expected an exponent \(2\^size buckets\) from 1 to 20/,
    ],
    ['modparam("ptimer", "restart_limit", "5")', /^m\.cfg:1:37: restart_limit: "5" is not valid; expected N\/W/],
    [
      'modparam("ptimer", "timer", "name=a;limit=0/1s")\nmodparam("ptimer", "loop", "timer=a;route=L")',
      /^m\.cfg:1:29: timer "a": limit: "0\/1s" is not valid/,
    ],
  ];
  for (const [text, message] of cases) assert.match(resolveError(text).message, message, text);
});

test('locateConfigError leaves other errors as they are', () => {
  const parsed = parse('');
  const other = new TypeError('x');
  assert.equal(locateConfigError(other, parsed), other);
  const located = locateConfigError(new ConfigError('p', 1, 'allowed'), parsed) as KamailioCfgError;
  assert.match(located.message, /^m\.cfg:1:1: p: 1 is not valid; allowed$/);
});
