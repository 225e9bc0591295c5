/**
 * Log lines across the thread boundary.
 *
 * A scheduler thread logs with a pino logger of its own (so `ctx.log` keeps pino's API, levels
 * and child bindings), whose destination is not a file but `post`: each JSON line goes to the
 * main thread as a `{ type: 'log', line }` message, which writes it through the main thread's
 * logger (logger.ts, `Logging.writeLine`). postMessage is synchronous to call and Node delivers
 * what a thread posted before it exits, so the line a route logs right before `process.exit`
 * still arrives. Lines below the level are dropped in the thread, before any message is made.
 *
 * A route error crosses as a plain record (`errorRecord`: type, message, stack and the error's
 * own primitive fields, each bounded), which the main thread turns back into an error-like
 * object (`reviveError`) for pino's error serializer, so the logged `err.type` is still
 * `TypeError` and not `Object`.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './logger.js';

/** Bounds on what an error record carries (a route may throw anything). */
const MAX_TEXT = 16 * 1024;
const MAX_FIELDS = 20;
const MAX_TYPES = 64;

/** A thread's logger: JSON lines at `level`, each handed to `post` (which sends it to the main thread). */
export function createThreadLogger(
  level: LogLevel,
  bindings: Record<string, unknown>,
  post: (line: string) => void,
): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, { write: post });
}

/** An error as a structured-cloneable, bounded record, in the shape pino's serializer gives. */
export interface ErrorRecord {
  type: string;
  message: string;
  stack?: string;
  [field: string]: string | number | boolean | undefined;
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}... (${text.length - MAX_TEXT} more characters)` : text;
}

export function errorRecord(error: unknown): ErrorRecord {
  const err = error instanceof Error ? error : new Error(String(error));
  let serialized: Record<string, unknown>;
  try {
    serialized = pino.stdSerializers.err(err);
  } catch {
    serialized = { type: 'Error', message: String(err.message), stack: String(err.stack) }; // a getter that throws
  }
  const record: ErrorRecord = {
    type: typeof serialized.type === 'string' && serialized.type !== '' ? cut(serialized.type) : 'Error',
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a message that is not a string is written as String() writes it
    message: cut(String(serialized.message ?? '')),
  };
  if (typeof serialized.stack === 'string') record.stack = cut(serialized.stack);
  let fields = 0;
  for (const [key, value] of Object.entries(serialized)) {
    if (key in record || key === 'raw' || fields >= MAX_FIELDS) continue;
    if (typeof value === 'string') record[key] = cut(value);
    else if (typeof value === 'number' || typeof value === 'boolean') record[key] = value;
    else continue;
    fields++;
  }
  return record;
}

/** Constructors named after error types, so that pino's serializer reads the type back. */
const constructors = new Map<string, { prototype: object }>();

function constructorFor(type: string): { prototype: object } {
  let made = constructors.get(type);
  if (!made) {
    if (constructors.size >= MAX_TYPES) return Error;
    const named = { [type]: function () {} }[type]!;
    named.prototype = Object.create(Error.prototype, {
      constructor: { value: named, writable: true, configurable: true },
      name: { value: type, writable: true, configurable: true },
    }) as object;
    constructors.set(type, (made = named));
  }
  return made;
}

/** An Error (by `instanceof`) with the record's type, message, stack and fields. */
export function reviveError(record: ErrorRecord): Error {
  const { type, ...fields } = record;
  return Object.assign(Object.create(constructorFor(type).prototype) as Error, fields);
}

function isErrorRecord(value: unknown): value is ErrorRecord {
  const v = value as Partial<ErrorRecord> | null;
  return typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.message === 'string';
}

const LABELS = new Map<number, string>(Object.entries(pino.levels.values).map(([label, value]) => [value, label]));

function labelOf(level: unknown): string {
  if (typeof level !== 'number') return 'info';
  const exact = LABELS.get(level);
  if (exact) return exact;
  let best = 'trace';
  for (const [value, label] of [...LABELS].sort((a, b) => a[0] - b[0])) if (value <= level) best = label;
  return best;
}

/**
 * A thread's JSON line logged again through a logger ptimer did not build (the user's): same
 * level, message and fields (the logger stamps its own time, pid and hostname).
 */
export function relogLine(logger: Logger, line: string): void {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    record = undefined;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    logger.warn({ line: cut(line) }, 'a scheduler thread wrote a log line that is not a JSON object');
    return;
  }
  const { level, time: _time, pid: _pid, hostname: _hostname, msg, ...fields } = record as Record<string, unknown>;
  if (isErrorRecord(fields.err)) fields.err = reviveError(fields.err);
  const method = (logger as unknown as Record<string, unknown>)[labelOf(level)];
  const log = (typeof method === 'function' ? method : logger.info).bind(logger) as (obj: object, msg?: string) => void;
  if (typeof msg === 'string') log(fields, msg);
  else log(fields);
}
