/**
 * A configuration that cannot run. The message names the parameter, the value given
 * and what is allowed; the same facts are kept as fields for programs.
 *
 * describeValue prints any value at all (objects without a prototype, symbols, bigints,
 * functions, cycles, getters that throw, proxies) without throwing, and cuts what it
 * prints to a readable length: an error never echoes a megabyte of the offending text.
 */
export class ConfigError extends Error {
  /**
   * Which top-level parameter, and which item of it, the error is about: set by
   * resolveConfig, so that a Kamailio-style file can map the error to its modparam line.
   */
  origin: { key: string; index?: number } | undefined = undefined;

  constructor(
    /** Where the value came from, e.g. `timer "queue": interval` or `default_nworkers`. */
    readonly param: string,
    /** The offending value, as given. */
    readonly value: unknown,
    /** What would have been accepted. */
    readonly allowed: string,
  ) {
    super(`${param}: ${describeValue(value)} is not valid; ${allowed}`);
    this.name = 'ConfigError';
  }
}

/** Most problems a ConfigErrors message lists; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 20;

/**
 * Several ConfigErrors of one config, each about a part whose check did not depend on another
 * part's error, so that one mistake does not hide the next: the message lists them all (up to
 * MAX_LISTED_PROBLEMS), `errors` keeps each, and `origin` is the first one's.
 */
export class ConfigErrors extends ConfigError {
  constructor(readonly errors: readonly ConfigError[]) {
    super('config', undefined, 'see each problem');
    this.message = listProblems(errors.map((error) => error.message));
    this.origin = errors[0]?.origin;
  }
}

/** `config: N problems:` and a line per message (at most MAX_LISTED_PROBLEMS, then a count). */
export function listProblems(messages: readonly string[]): string {
  const shown = messages.slice(0, MAX_LISTED_PROBLEMS).map((message) => `  - ${message}`);
  const more = messages.length - shown.length;
  return [`config: ${messages.length} problems:`, ...shown, ...(more > 0 ? [`  ... and ${more} more`] : [])].join('\n');
}

/** The longest text of a value an error message shows; the rest is counted, not printed. */
export const MAX_SHOWN_CHARS = 80;
/** Items and keys shown of an array or object before `…`. */
const MAX_SHOWN_ITEMS = 8;
/** Nesting shown of arrays and objects before `…`. */
const MAX_SHOWN_DEPTH = 3;

/** A value as a message shows it: JSON-like, at most MAX_SHOWN_CHARS characters, then `… (N chars)`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'no value';
  if (typeof value === 'string') {
    if (value.length <= MAX_SHOWN_CHARS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, MAX_SHOWN_CHARS))}… (${value.length} chars)`;
  }
  const text = show(value, 0, new Set());
  return text.length <= MAX_SHOWN_CHARS ? text : `${text.slice(0, MAX_SHOWN_CHARS)}… (${text.length} chars)`;
}

/** Never throws: every property read and every conversion is guarded. */
function show(value: unknown, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(value.length <= MAX_SHOWN_CHARS ? value : `${value.slice(0, MAX_SHOWN_CHARS)}…`);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return guard(() => value.toString(), 'a symbol');
    case 'function':
      return guard(() => (value.name ? `a function ${value.name}` : 'a function'), 'a function');
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) return '[a cycle]';
  if (depth >= MAX_SHOWN_DEPTH) return guard(() => (Array.isArray(object) ? '[…]' : '{…}'), '{…}');
  seen.add(object);
  try {
    if (Array.isArray(object)) return showArray(object, depth, seen);
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const ctor = guard(() => (proto as { constructor?: { name?: unknown } }).constructor?.name, undefined);
      return typeof ctor === 'string' && ctor !== '' ? `a ${ctor}` : 'an object';
    }
    const keys = Object.keys(object);
    const parts = keys.slice(0, MAX_SHOWN_ITEMS).map((key) => {
      const item = guard(() => show((object as Record<string, unknown>)[key], depth + 1, seen), '(reading it threw)');
      return `${JSON.stringify(key)}:${item}`;
    });
    if (keys.length > MAX_SHOWN_ITEMS) parts.push('…');
    return `{${parts.join(',')}}`;
  } catch {
    return 'an object that cannot be read';
  } finally {
    seen.delete(object);
  }
}

function showArray(array: unknown[], depth: number, seen: Set<object>): string {
  const length = array.length;
  const parts: string[] = [];
  for (let i = 0; i < Math.min(length, MAX_SHOWN_ITEMS); i++) {
    parts.push(Object.hasOwn(array, i) ? guard(() => show(array[i], depth + 1, seen), '(reading it threw)') : '<hole>');
  }
  if (length > MAX_SHOWN_ITEMS) parts.push(`… ${length} items`);
  return `[${parts.join(',')}]`;
}

function guard<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
