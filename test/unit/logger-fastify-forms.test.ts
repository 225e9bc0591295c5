/**
 * `log` takes what fastify's `logger` takes: true, false, a level, pino's options (`transport`,
 * `redact`, ... and fastify's `file` and `stream`), a pino logger. pino's options apply to the
 * lines the scheduler threads log too (they are logged again through the main thread's logger).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpLogging } from '../../src/runtime/logger.js';
import { createThreadLogger } from '../../src/runtime/log-forward.js';
import { memory } from '../support/memory-stream.js';
import { waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-log-forms-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** One line as a scheduler thread's logger posts it. */
function threadLine(fields: Record<string, unknown>, msg: string): string {
  let line = '';
  createThreadLogger('info', { thread: 'pool-0' }, (l) => (line = l)).info(fields, msg);
  return line;
}

test('true, false and a level name', () => {
  assert.equal(setUpLogging(true, {}, {}, false).logger.level, 'info');
  assert.equal(setUpLogging(false, {}, {}, false).logger.level, 'silent');
  assert.equal(setUpLogging(false, {}, {}, false).threadLevel, 'silent', 'the threads drop their lines too');
  assert.equal(setUpLogging('debug', {}, {}, false).logger.level, 'debug');
  assert.throws(() => setUpLogging('verbose' as never), /log must be true, false, a level/);
});

test("pino's options apply to the main thread's lines and to the threads'", () => {
  const { stream, lines } = memory();
  const logging = setUpLogging({ stream, redact: ['secret'], messageKey: 'message' }, {}, {}, false);
  logging.logger.info({ secret: 'hunter2' }, 'main');
  logging.writeLine(threadLine({ secret: 'hunter2' }, 'from a thread'));
  const got = lines();
  assert.deepEqual(
    got.map((l) => [l.message, l.secret]),
    [
      ['main', '[Redacted]'],
      ['from a thread', '[Redacted]'],
    ],
  );
  assert.equal(got[1]!.thread, 'pool-0');
});

test("fastify's file: JSON lines appended to it, the threads' too", () => {
  const file = join(dir, 'logs', 'ptimer.log');
  const logging = setUpLogging({ file, level: 'warn' }, {}, {}, false);
  logging.logger.warn('to the file');
  logging.writeLine(threadLine({ worker: 1 }, 'thread warn').replace('"level":30', '"level":40'));
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['to the file', 'thread warn'],
  );
});

test("a transport (pino's, run in its own thread): the lines reach its target", async () => {
  const file = join(dir, 'transport.log');
  const logging = setUpLogging({ transport: { target: 'pino/file', options: { destination: file } } }, {}, {}, false);
  logging.logger.info('through the transport');
  logging.writeLine(threadLine({ worker: 0 }, 'a thread, through the transport'));
  await waitFor(
    'the transport to write',
    () => existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(Boolean).length >= 2,
  );
  const msgs = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.deepEqual(msgs, ['through the transport', 'a thread, through the transport']);
});

test('refused, naming what is wrong: a mistyped pino option, two destinations, pretty with a transport', () => {
  assert.throws(
    () => setUpLogging({ redcat: ['x'] } as never),
    /log\.redcat is not a log option \(did you mean 'redact'\?\)/,
  );
  assert.throws(
    () => setUpLogging({ colour: 'red' } as never),
    (err: unknown) => err instanceof TypeError && !/did you mean/.test(err.message),
  );
  assert.throws(
    () => setUpLogging({ file: join(dir, 'a.log'), stream: process.stdout }),
    /give one of destination, stream, file and transport, not stream and file/,
  );
  assert.throws(
    () => setUpLogging({ pretty: true, transport: { target: 'pino/file' } }),
    /with a transport, use pino-pretty as its target/,
  );
  assert.throws(() => setUpLogging({ file: '' }), /log\.file must be a file path/);
});
