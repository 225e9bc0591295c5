/**
 * The main thread's logging, set up from PTimer's `log` option, which takes what fastify's
 * `logger` takes:
 * - `true` (the default logger: JSON lines at `info` on stdout, readable on a terminal), or
 *   `false` (no logging); a level name (`'debug'`) is the default logger at that level;
 * - LogOptions: pino's options (`level`, `redact`, `serializers`, `formatters`, `transport`,
 *   ...), with fastify's `file` (a path) and `stream`, and ptimer's `pretty` and `destination`
 *   (`stream` is another name for it); ptimer builds a pino logger from them;
 * - a pino Logger (or any logger with pino's methods): used as it is;
 * - a destination (a writable stream, `pino.destination(...)`, anything with `write(line)`):
 *   JSON lines at level `info` go there.
 * A key that is neither pino's nor one of those is refused (with a did-you-mean), as a mistyped
 * `levle` would otherwise be dropped without a word.
 *
 * Worker threads do not write anywhere themselves: they post their JSON lines to the main
 * thread (log-forward.ts), which hands them to `Logging.writeLine`. For a logger ptimer built,
 * that is the stream its own lines go to, so a thread's line is prettified (or not) and lands
 * exactly where the main thread's do. A logger the user gave is asked to log the line's record
 * again, so its bindings, hooks and destinations apply.
 *
 * A destination that routes by level (pino.multistream) is told each line's level, whoever wrote it.
 * Pretty lines come from pino-pretty's formatter, called synchronously, so that nothing is held
 * in a stream buffer when the process exits. Colours only on a terminal, and never when
 * NO_COLOR is set and not empty (https://no-color.org).
 */
import {
  pino,
  type BaseLogger,
  type DestinationStream,
  type Logger,
  type LevelWithSilent,
  type LoggerOptions,
} from 'pino';
import { didYouMean } from '../suggest.js';
import { prettyFactory } from 'pino-pretty';
import { relogLine } from './log-forward.js';

export type { Logger };
export type LogLevel = LevelWithSilent;

/** Where log lines can be written: anything with `write(line)`. */
export type LogDestination = DestinationStream | NodeJS.WritableStream;

export interface LogOptions extends Omit<LoggerOptions, 'level' | 'browser'> {
  /** Default `info`. `silent` turns logging off. */
  level?: LogLevel;
  /** Readable lines instead of JSON. Default: when writing to stdout and stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go. Default: stdout (written synchronously). */
  destination?: LogDestination;
  /** fastify's name for `destination`. */
  stream?: LogDestination;
  /** fastify's: a file to append JSON lines to (pino.destination(file)). */
  file?: string;
}

/** A pino logger (custom levels or not), or any logger with pino's methods (as fastify takes). */
export type AnyLogger = BaseLogger & { child(bindings: Record<string, unknown>): BaseLogger };

/** The `log` option: options, a ready logger, or a destination for JSON lines. */
export type LogSetting = boolean | LogLevel | LogOptions | AnyLogger | LogDestination;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** ptimer's and fastify's own keys; the others are pino's (passed to pino as they are). */
const OPTION_KEYS = ['level', 'pretty', 'destination', 'stream', 'file'] as const;
/** pino's LoggerOptions, as of pino 10 (`browser` aside: this is Node). */
const PINO_KEYS = [
  'name',
  'customLevels',
  'useOnlyCustomLevels',
  'mixin',
  'mixinMergeStrategy',
  'redact',
  'serializers',
  'timestamp',
  'base',
  'enabled',
  'crlf',
  'formatters',
  'hooks',
  'levelComparator',
  'messageKey',
  'errorKey',
  'nestedKey',
  'msgPrefix',
  'onChild',
  'safe',
  'depthLimit',
  'edgeLimit',
  'transport',
  'levelVal',
  'useLevelLabels',
  'changeLevelName',
  'levelKey',
] as const;
/** The methods fastify requires of a logger it is given, and we call. */
const LOGGER_METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'child'] as const;

export interface Logging {
  logger: Logger;
  /** The level the threads log at (they drop finer lines before posting them). */
  threadLevel: LogLevel;
  /** Writes one JSON line logged by a thread where the logger's own lines go. */
  writeLine(line: string): void;
}

/** What LogOptions come to, before any stream is opened. */
export interface ResolvedLogOptions {
  level: LogLevel;
  pretty: boolean;
  colorize: boolean;
  destination: LogDestination | 'stdout';
}

/** NO_COLOR (https://no-color.org): set and not empty. */
export function noColor(env: NodeJS.ProcessEnv): boolean {
  return typeof env.NO_COLOR === 'string' && env.NO_COLOR !== '';
}

export function isLogger(value: unknown): value is AnyLogger {
  return (
    typeof value === 'object' &&
    value !== null &&
    LOGGER_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

export function isDestination(value: unknown): value is LogDestination {
  return typeof value === 'object' && value !== null && typeof (value as { write?: unknown }).write === 'function';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects were described above: a primitive or a function is left
  return `${typeof value} ${String(value)}`;
}

/** Checks LogOptions and fills in the defaults; `isTTY` is whether stdout is a terminal. */
export function resolveLogOptions(
  options: LogOptions,
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): ResolvedLogOptions {
  const known = [...OPTION_KEYS, ...PINO_KEYS] as readonly string[];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `log.${key} is not a log option${didYouMean(key, known)}; allowed: ${OPTION_KEYS.join(', ')} and pino's options (${PINO_KEYS.slice(0, 8).join(', ')}, transport, ...), or give log a pino logger or a destination stream`,
      );
    }
  }
  const given = [
    options.destination !== undefined && 'destination',
    options.stream !== undefined && 'stream',
    options.file !== undefined && 'file',
    options.transport !== undefined && 'transport',
  ].filter(Boolean);
  if (given.length > 1)
    throw new TypeError(`log: give one of destination, stream, file and transport, not ${given.join(' and ')}`);
  if (options.transport !== undefined && options.pretty)
    throw new TypeError('log: pretty is for lines ptimer writes; with a transport, use pino-pretty as its target');
  if (options.file !== undefined && (typeof options.file !== 'string' || options.file === ''))
    throw new TypeError(`log.file must be a file path, got ${describe(options.file)}`);
  const { level = 'info', pretty } = options;
  const destination = options.destination ?? options.stream;
  if (!(LOG_LEVELS as readonly unknown[]).includes(level)) {
    throw new TypeError(`log.level must be one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`);
  }
  if (pretty !== undefined && typeof pretty !== 'boolean') {
    throw new TypeError(`log.pretty must be true or false, got ${describe(pretty)}`);
  }
  if (destination !== undefined && !isDestination(destination)) {
    throw new TypeError(
      `log.destination must be a writable stream or a pino destination (something with write(line)), got ${describe(destination)}`,
    );
  }
  const toStdout = destination === undefined && options.file === undefined && options.transport === undefined;
  const usePretty = pretty ?? (toStdout && isTTY);
  return {
    level,
    pretty: usePretty,
    colorize: usePretty && toStdout && isTTY && !noColor(env),
    destination: destination ?? 'stdout',
  };
}

/** The standard level at or below a logger's level, so a thread posts every line the logger may keep. */
function levelOf(logger: AnyLogger): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(logger.level)) return logger.level as LogLevel;
  const levelVal = (logger as { levelVal?: unknown }).levelVal;
  const value = typeof levelVal === 'number' ? levelVal : 0;
  if (value === Infinity) return 'silent';
  const standard = Object.entries(pino.levels.values)
    .filter(([, v]) => v <= value)
    .sort((a, b) => b[1] - a[1])[0];
  return (standard?.[0] as LogLevel | undefined) ?? 'trace';
}

/**
 * The main thread's logger and the way thread lines reach its destination. `setting` is the
 * `log` option (see the module comment); `bindings` are added to every line the main thread logs.
 * Throws TypeError, naming what is wrong, for anything else.
 */
export function setUpLogging(
  setting: LogSetting | undefined = {},
  bindings: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): Logging {
  if (isLogger(setting)) {
    // The user's logger, typed as pino's default one (its custom levels are its own business).
    const user = setting as unknown as Logger;
    const logger = Object.keys(bindings).length > 0 ? user.child(bindings) : user;
    return { logger, threadLevel: levelOf(setting), writeLine: (line) => relogLine(user, line) };
  }
  let options: LogOptions;
  if (setting === true) options = {};
  else if (setting === false) options = { level: 'silent' };
  else if (typeof setting === 'string' && (LOG_LEVELS as readonly string[]).includes(setting))
    options = { level: setting };
  else if (isDestination(setting)) options = { destination: setting };
  else if (typeof setting === 'object' && setting !== null && !Array.isArray(setting)) options = setting;
  else {
    throw new TypeError(
      `log must be true, false, a level (${LOG_LEVELS.join(', ')}), log options (pino's, with pretty, destination, stream or file), a pino logger or a destination stream, got ${describe(setting)}`,
    );
  }
  const resolved = resolveLogOptions(options, env, isTTY);
  const { level: _level, pretty: _pretty, destination: _destination, stream: _stream, file, ...pinoOptions } = options;
  const base = { pid: process.pid, ...(pinoOptions.base ?? {}), ...bindings };
  if (pinoOptions.transport !== undefined) {
    // pino writes through the transport's own thread; the threads' lines are logged again through it.
    const logger = pino({ ...pinoOptions, level: resolved.level, base });
    return { logger, threadLevel: resolved.level, writeLine: (line) => relogLine(logger, line) };
  }
  const sink: LogDestination =
    file !== undefined
      ? pino.destination({ dest: file, sync: true, mkdir: true })
      : resolved.destination === 'stdout'
        ? pino.destination({ fd: 1, sync: true })
        : resolved.destination;
  const tell = metadataFor(sink);
  let stream: DestinationStream = sink;
  if (resolved.pretty) {
    const prettify = prettyFactory({ colorize: resolved.colorize, ignore: 'pid,hostname' });
    stream = { write: (line: string) => (tell?.(line), void sink.write(prettify(line))) };
  }
  const logger = pino({ ...pinoOptions, level: resolved.level, base }, stream);
  if (Object.keys(pinoOptions).length > 0) {
    // pino options (redact, serializers, formatters, ...) must apply to the threads' lines too.
    return { logger, threadLevel: resolved.level, writeLine: (line) => relogLine(logger, line) };
  }
  const raw = stream === sink && tell;
  return {
    logger,
    threadLevel: resolved.level,
    writeLine: raw ? (line) => (tell(line), void stream.write(line)) : (line) => void stream.write(line),
  };
}

/**
 * A destination that routes by level (`pino.multistream`) reads the level pino sets on it
 * before each write; a line written by any other way (a thread's, or a prettified one) must
 * set it too, from the line itself (pino writes `{"level":N,"time":T` first).
 */
function metadataFor(sink: LogDestination): ((line: string) => void) | undefined {
  const target = sink as unknown as Record<string | symbol, unknown>;
  if (target[pino.symbols.needsMetadataGsym] !== true) return undefined;
  return (line) => {
    const head = /^\{"level":(\d+)(?:,"time":(\d+))?/.exec(line);
    target.lastLevel = head ? Number(head[1]) : 30;
    target.lastTime = head?.[2];
    target.lastObj = {};
    target.lastMsg = undefined;
  };
}

/** A main-thread logger alone (for the CLI's own lines). */
export function createLogger(options: LogSetting = {}, bindings: Record<string, unknown> = {}): Logger {
  return setUpLogging(options, bindings).logger;
}
