/**
 * Value parsers shared by the parameters: bounded integers, names, `N/W` rates,
 * bounded durations, flags. Each takes the raw value (a number, or a string from the
 * reference's `key=value` text) and the parameter's name for its ConfigError.
 * No regex here backtracks: each is anchored and has no nested or adjacent quantifiers.
 */
import { didYouMean } from '../suggest.js';
import { ConfigError } from './errors.js';
import { formatDurationNs, parseDuration } from './interval.js';
import { MAX_NAME_CHARS } from './limits.js';

const DIGITS = /^\d+$/;
const NAME = /^[A-Za-z0-9_.-]+$/;
export const NAME_EXPECTED = `expected a non-empty name of letters, digits, "_", "-" and "." (at most ${MAX_NAME_CHARS} characters)`;

/**
 * A number as given, or the value of a string of at most 20 digits; NaN for anything else.
 * The callers check it is an integer in their range.
 */
export function numberOrDigits(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.length <= 20 && DIGITS.test(value) ? Number(value) : NaN;
}

/** An integer from min to max, as a number or a digit string. */
export function parseInteger(value: unknown, param: string, min: number, max: number, what = 'an integer'): number {
  const n = numberOrDigits(value);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  const range = `from ${min} to ${max}`;
  const hint = Number.isInteger(n) && n > max ? `; at most ${max}` : '';
  throw new ConfigError(param, value, `expected ${what} ${range}${hint}`);
}

export function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_NAME_CHARS && NAME.test(value);
}

/** A timer, queue, table or thread group name. */
export function parseName(value: unknown, param: string): string {
  if (!isName(value)) throw new ConfigError(param, value, NAME_EXPECTED);
  return value;
}

/**
 * An object form's fields (a timer, queue or table given as an object): every key must be one of
 * `keys` (the error names the item by its name when it has a valid one); undefined values are left out.
 */
export function objectFields(
  item: Record<string, unknown>,
  param: string,
  keys: readonly string[],
  kind: string,
): Record<string, unknown> {
  const label = isName(item.name) ? `${kind} "${item.name}"` : param;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (!keys.includes(key))
      throw new ConfigError(label, key, `not a ${kind} key${didYouMean(key, keys)}; the keys are ${keys.join(', ')}`);
    if (value !== undefined) fields[key] = value;
  }
  return fields;
}

/** `0`, `1`, `false`, `true` (as numbers or booleans; 0 and 1 also as strings). */
export function parseFlag(value: unknown, param: string): boolean {
  if (value === true || value === 1 || value === '1') return true;
  if (value === false || value === 0 || value === '0') return false;
  throw new ConfigError(param, value, 'expected 0 or 1 (in an object also false or true)');
}

export interface Rate {
  count: number;
  windowNs: number;
  /** Canonical, e.g. `50/1s`. */
  text: string;
}

export interface RateBounds {
  maxCount: number;
  maxWindowNs: number;
  /** Shown in messages, e.g. `50/1s`. */
  example: string;
}

/** `N/W`: N a positive integer, W a duration (`1s`, `100ms`; no unit means seconds). */
export function parseRate(value: unknown, param: string, bounds: RateBounds): Rate {
  const expected =
    `expected N/W: N items (an integer from 1 to ${bounds.maxCount}) in any window W ` +
    `(a duration such as 1s, 100ms or 60s, at most ${formatDurationNs(bounds.maxWindowNs)}), e.g. ${bounds.example}`;
  if (typeof value !== 'string') throw new ConfigError(param, value, expected);
  const slash = value.indexOf('/');
  if (slash < 0 || value.indexOf('/', slash + 1) >= 0) throw new ConfigError(param, value, expected);
  const countText = value.slice(0, slash).trim();
  const windowText = value.slice(slash + 1).trim();
  const count = numberOrDigits(countText);
  if (!Number.isInteger(count) || count < 1 || count > bounds.maxCount) {
    throw new ConfigError(
      param,
      value,
      `${expected}; N "${countText.slice(0, 20)}" is not an integer from 1 to ${bounds.maxCount}`,
    );
  }
  let windowNs: number;
  try {
    windowNs = parseDuration(windowText, param).ns;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(param, value, `${expected}; W: ${error.allowed}`);
  }
  if (windowNs > bounds.maxWindowNs) throw new ConfigError(param, value, expected);
  return { count, windowNs, text: `${count}/${formatDurationNs(windowNs)}` };
}

/** A duration from min to max (strings as parseDuration reads them; a number means seconds). */
export function parseBoundedDuration(value: unknown, param: string, minNs: number, maxNs: number): number {
  const range = `from ${formatDurationNs(minNs)} to ${formatDurationNs(maxNs)}`;
  let ns: number;
  try {
    ns = parseDuration(value, param).ns;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(param, value, `${error.allowed}; ${range}`);
  }
  if (ns < minNs || ns > maxNs)
    throw new ConfigError(param, value, `expected a duration ${range} (no unit means seconds)`);
  return ns;
}

/** A plain object: `{}` or one without a prototype; not an array, a Map or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  try {
    if (Array.isArray(value)) return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}
