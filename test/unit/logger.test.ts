/**
 * The `log` option: options, a pino logger or a destination; defaults for pretty and colours
 * (a terminal, NO_COLOR); every bad value refused with what is allowed; thread lines written
 * where the main thread's go. No threads here: lines are handed to `writeLine` as a thread's
 * logger would post them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { isDestination, isLogger, noColor, resolveLogOptions, setUpLogging } from '../../src/runtime/logger.js';
import { createThreadLogger } from '../../src/runtime/log-forward.js';
import { memory } from '../support/memory-stream.js';

/** Lines a thread's logger would post (the main thread receives them one by one). */
function threadLines(level: 'info' | 'debug', log: (logger: pino.Logger) => void): string[] {
  const lines: string[] = [];
  log(createThreadLogger(level, { thread: 'pool-0' }, (line) => lines.push(line)));
  return lines;
}

const ESC = '\u001b[';

test('defaults: info, JSON to stdout; pretty and coloured on a terminal', () => {
  assert.deepEqual(resolveLogOptions({}, {}, false), {
    level: 'info',
    pretty: false,
    colorize: false,
    destination: 'stdout',
  });
  assert.deepEqual(resolveLogOptions({}, {}, true), {
    level: 'info',
    pretty: true,
    colorize: true,
    destination: 'stdout',
  });
  assert.deepEqual(resolveLogOptions({ pretty: false }, {}, true), {
    level: 'info',
    pretty: false,
    colorize: false,
    destination: 'stdout',
  });
  assert.equal(resolveLogOptions({ pretty: true }, {}, false).colorize, false, 'pretty into a pipe: no colours');
});

test('NO_COLOR set and not empty turns colours off (https://no-color.org)', () => {
  assert.equal(noColor({ NO_COLOR: '1' }), true);
  assert.equal(noColor({ NO_COLOR: 'false' }), true, 'any value');
  assert.equal(noColor({ NO_COLOR: '' }), false, 'empty: as if unset');
  assert.equal(noColor({}), false);
  assert.equal(resolveLogOptions({}, { NO_COLOR: '1' }, true).colorize, false);
  assert.equal(resolveLogOptions({}, { NO_COLOR: '1' }, true).pretty, true, 'still readable, only without colour');
  assert.equal(resolveLogOptions({}, { NO_COLOR: '' }, true).colorize, true);
});

test('a destination: JSON lines there, not pretty unless asked, never coloured', () => {
  const { stream } = memory();
  assert.deepEqual(resolveLogOptions({ destination: stream }, {}, true), {
    level: 'info',
    pretty: false,
    colorize: false,
    destination: stream,
  });
  assert.equal(resolveLogOptions({ destination: stream, pretty: true }, {}, true).colorize, false);
});

test('bad log settings are refused, naming what is allowed', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ level: 'verbose' }, /log\.level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/],
    [{ level: 30 }, /log\.level must be one of .*, got number 30/],
    [{ pretty: 'yes' }, /log\.pretty must be true or false, got "yes"/],
    [{ destination: {} }, /log\.destination must be a writable stream or a pino destination .*, got an object/],
    [{ destination: 1 }, /log\.destination must be .*, got number 1/],
    [
      { levle: 'info' },
      /log\.levle is not a log option \(did you mean 'level'\?\); allowed: level, pretty, destination, stream, file and pino's options \(.*transport, \.\.\.\), or give log a pino logger or a destination stream/,
    ],
    [{ info() {} }, /log\.info is not a log option/],
    [
      42,
      /log must be true, false, a level \(fatal, error, warn, info, debug, trace, silent\), log options \(pino's, with pretty, destination, stream or file\), a pino logger or a destination stream, got number 42/,
    ],
    ['verbose', /log must be .*, got "verbose"/],
    [[], /log must be .*, got an array/],
    [null, /log must be .*, got null/],
  ];
  for (const [setting, message] of cases) {
    assert.throws(
      () => setUpLogging(setting as never, {}, {}, false),
      (e: Error) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(setting),
    );
  }
});

test('what counts as a logger and as a destination', () => {
  assert.equal(isLogger(pino({ level: 'silent' })), true);
  assert.equal(isLogger({ info() {}, error() {} }), false, 'fastify requires all of fatal..trace and child');
  assert.equal(isDestination(pino.destination({ dest: '/dev/null', sync: true })), true);
  assert.equal(isDestination(new Writable()), true);
  assert.equal(isDestination({ write: 1 }), false);
});

test('a destination stream: the main thread and the threads write their JSON lines there, in order', () => {
  const { stream, lines } = memory();
  const logging = setUpLogging(stream, {}, {}, true);
  assert.equal(logging.threadLevel, 'info');
  logging.logger.info('main says');
  for (const line of threadLines('info', (l) =>
    l.child({ timer: 't', worker: 0, route: 'loop' }).warn({ n: 1 }, 'route says'),
  ))
    logging.writeLine(line);
  const [main, route] = lines();
  assert.equal(main!.msg, 'main says');
  assert.deepEqual(
    {
      level: route!.level,
      thread: route!.thread,
      timer: route!.timer,
      worker: route!.worker,
      route: route!.route,
      n: route!.n,
      msg: route!.msg,
      pid: route!.pid,
    },
    { level: 40, thread: 'pool-0', timer: 't', worker: 0, route: 'loop', n: 1, msg: 'route says', pid: process.pid },
  );
  assert.equal(typeof route!.time, 'number', "the thread's own time");
});

test('the level: a thread drops finer lines before posting them', () => {
  const logging = setUpLogging({ level: 'warn', destination: memory().stream }, {}, {}, false);
  assert.equal(logging.threadLevel, 'warn');
  const lines: string[] = [];
  const threadLogger = createThreadLogger(logging.threadLevel, {}, (line) => lines.push(line));
  threadLogger.info('dropped');
  threadLogger.error('kept');
  assert.equal(lines.length, 1);
  assert.equal(createThreadLogger('silent', {}, (line) => lines.push(line)).fatal('x'), undefined);
  assert.equal(lines.length, 1, 'silent posts nothing');
});

test('pretty to a destination: readable lines for the main thread and the threads, without colour', () => {
  const { stream, text } = memory();
  const logging = setUpLogging({ destination: stream, pretty: true }, {}, {}, true);
  logging.logger.info('main says');
  for (const line of threadLines('info', (l) =>
    l.child({ timer: 't', worker: 3 }).error({ err: new TypeError('bad') }, 'route failed'),
  )) {
    logging.writeLine(line);
  }
  const out = text();
  assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: main says\n/);
  assert.match(out, /\] ERROR: route failed\n/);
  assert.match(out, /thread: "pool-0"/);
  assert.match(out, /worker: 3/);
  assert.match(out, /TypeError: bad\n\s+at /, 'the stack, readable');
  assert.ok(!out.includes(ESC), 'no escape codes');
  assert.ok(!out.includes('{"level"'), 'no raw JSON');
});

test('a pino logger: used as it is; thread lines are logged through it again, with its bindings and level', () => {
  const { stream, lines, text } = memory();
  const mine = pino({ level: 'debug', base: { service: 'billing' } }, stream);
  const logging = setUpLogging(mine, {}, {}, false);
  assert.equal(logging.logger, mine);
  assert.equal(logging.threadLevel, 'debug');
  const posted = threadLines('debug', (l) => {
    l.child({ timer: 't', worker: 0, route: 'loop' }).debug({ queue: 7 }, '100% done, %s left');
    const err = Object.assign(new RangeError('too far'), { code: 'E_FAR' });
    l.error({ err }, 'failed');
    l.info('no fields');
  });
  for (const line of posted) logging.writeLine(line);
  for (const raw of text().split('\n').filter(Boolean)) {
    assert.equal(raw.match(/"level":/g)?.length, 1, `one level in ${raw}`);
    assert.equal(raw.match(/"time":/g)?.length, 1, `one time in ${raw}`);
  }
  const [debug, error, plain] = lines();
  assert.deepEqual(
    {
      level: debug!.level,
      service: debug!.service,
      thread: debug!.thread,
      timer: debug!.timer,
      route: debug!.route,
      queue: debug!.queue,
      msg: debug!.msg,
    },
    { level: 20, service: 'billing', thread: 'pool-0', timer: 't', route: 'loop', queue: 7, msg: '100% done, %s left' },
  );
  const err = error!.err as Record<string, unknown>;
  assert.equal(error!.level, 50);
  assert.equal(err.type, 'RangeError', 'the type survives the trip');
  assert.equal(err.message, 'too far');
  assert.equal(err.code, 'E_FAR');
  assert.match(String(err.stack), /^RangeError: too far\n {4}at /);
  assert.equal(plain!.msg, 'no fields');
  assert.equal(plain!.pid, undefined, "the logger's base (without pid) applies, not the thread's");
});

test('a pino logger with bindings asked for: a child carries them; a custom level maps to the standard one below', () => {
  const { stream, lines } = memory();
  const mine = pino({ customLevels: { notice: 35 }, level: 'notice' }, stream);
  const logging = setUpLogging(mine, { component: 'cli' }, {}, false);
  logging.logger.warn('w');
  assert.equal(lines()[0]!.component, 'cli');
  assert.equal(
    logging.threadLevel,
    'info',
    'notice (35) is above info (30): the thread posts info and up, the logger keeps notice and up',
  );
  for (const line of threadLines('info', (l) => (l.info('filtered by the logger'), l.warn('kept'))))
    logging.writeLine(line);
  assert.deepEqual(
    lines().map((l) => l.msg),
    ['w', 'kept'],
  );
  assert.equal(setUpLogging(pino({ level: 'silent' }), {}, {}, false).threadLevel, 'silent');
});

test('a line that is not a JSON object is not lost with a user logger: a warning carries it', () => {
  const { stream, lines } = memory();
  const logging = setUpLogging(pino(stream), {}, {}, false);
  logging.writeLine('not json\n');
  logging.writeLine('[1,2]\n');
  assert.deepEqual(
    lines().map((l) => [l.msg, l.line]),
    [
      ['a scheduler thread wrote a log line that is not a JSON object', 'not json\n'],
      ['a scheduler thread wrote a log line that is not a JSON object', '[1,2]\n'],
    ],
  );
});

test('PTimer takes the log setting (nothing is started): its lines go to the destination, a logger is used as it is, bad settings are refused', async () => {
  const { PTimer } = await import('../../src/ptimer.js');
  const config = { timer: [{ name: 't', interval: '1s', loop: 'LOOP' }] };
  const { stream, lines } = memory();
  const pt = new PTimer(config, { routes: 'routes.mjs', log: { destination: stream, level: 'debug' } });
  pt.logger.debug('hello');
  assert.deepEqual(
    lines().map((l) => [l.level, l.msg]),
    [[20, 'hello']],
  );
  const mine = pino({ level: 'silent' });
  assert.equal(new PTimer(config, { routes: 'routes.mjs', log: mine }).logger, mine);
  assert.throws(
    () => new PTimer(config, { routes: 'routes.mjs', log: { levle: 'info' } as never }),
    /log\.levle is not a log option \(did you mean 'level'\?\)/,
  );
  assert.throws(
    () => new PTimer(config, { routes: 'routes.mjs', log: 'loud' as never }),
    /log must be true, false, a level \(fatal, error, warn, info, debug, trace, silent\)/,
  );
});

test('a destination that routes by level (pino.multistream): thread lines are routed by their own level, pretty or not', () => {
  for (const pretty of [false, true]) {
    const errors = memory();
    const everything = memory();
    const multi = pino.multistream([
      { level: 'error', stream: errors.stream },
      { level: 'info', stream: everything.stream },
    ]);
    const logging = setUpLogging({ destination: multi, pretty }, {}, {}, false);
    logging.logger.error('main error');
    for (const line of threadLines('info', (l) => (l.info('thread info'), l.error('thread error'))))
      logging.writeLine(line);
    logging.logger.info('main info');
    const said = (m: ReturnType<typeof memory>) =>
      ['main error', 'thread info', 'thread error', 'main info'].filter((s) => m.text().includes(s));
    assert.deepEqual(said(errors), ['main error', 'thread error'], `pretty ${pretty}: the error stream`);
    assert.deepEqual(
      said(everything),
      ['main error', 'thread info', 'thread error', 'main info'],
      `pretty ${pretty}: the info stream`,
    );
  }
});
