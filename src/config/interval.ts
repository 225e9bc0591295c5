/**
 * Durations in the reference's grammar: a non-negative integer with an optional unit
 * `s`, `ms` or `us` (no unit means seconds), e.g. `100ms`, `250us`, `2s`, `2`.
 * Parsed to integer nanoseconds, the one time unit of the hot path.
 */
import { ConfigError } from './errors.js';

const NS_PER_UNIT = { s: 1_000_000_000, ms: 1_000_000, us: 1_000 } as const;
type Unit = keyof typeof NS_PER_UNIT;
/** Largest unit first: formatDurationNs picks the first that divides exactly. */
const UNITS_LARGEST_FIRST: readonly Unit[] = ['s', 'ms', 'us'];

const DURATION = /^(\d+)(s|ms|us)?$/;
/** `10m`, `10u`: the reference strips a trailing `s`, then `m` or `u`, so it reads `10m` as 10 ms. */
const UNIT_PREFIX_ONLY = /^(\d+)([mu])$/;

/** The largest duration whose nanoseconds are still exact in a JS number. */
const MAX_NS = Math.floor(Number.MAX_SAFE_INTEGER / NS_PER_UNIT.us) * NS_PER_UNIT.us;

export interface Duration {
  /** Canonical text, e.g. `100ms` for `100000us`. */
  text: string;
  ns: number;
}

export interface DurationOptions {
  /** Accept 0 (spins may be zero; intervals may not). */
  allowZero?: boolean;
}

/**
 * A duration string (`100ms`, `250us`, `2s`, `2`) or a number of seconds, in nanoseconds.
 * Throws ConfigError naming `param`, the value and the grammar.
 */
export function parseDuration(value: unknown, param: string, opts: DurationOptions = {}): Duration {
  const allowZero = opts.allowZero ?? false;
  const expected = expectedDuration(allowZero);
  let ns: number;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ConfigError(param, value, `${expected}; a number means whole seconds${suggestExactText(value)}`);
    }
    ns = value * NS_PER_UNIT.s;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (!match) {
      const prefixOnly = UNIT_PREFIX_ONLY.exec(value);
      if (prefixOnly) throw new ConfigError(param, value, `${expected}; ${notAUnit(prefixOnly[1]!, prefixOnly[2]!)}`);
      throw new ConfigError(param, value, expected);
    }
    ns = Number(match[1]) * NS_PER_UNIT[(match[2] ?? 's') as Unit];
  } else {
    throw new ConfigError(param, value, expected);
  }
  if (ns > MAX_NS)
    throw new ConfigError(param, value, `${expected}; at most ${formatDurationNs(MAX_NS)} (about 104 days)`);
  if (ns === 0 && !allowZero) throw new ConfigError(param, value, expected);
  return { text: formatDurationNs(ns), ns };
}

/** A duration that must be above zero: a timer's interval. */
export function parseInterval(value: unknown, param: string): Duration {
  return parseDuration(value, param);
}

/**
 * Canonical text for a duration: the largest unit that divides it exactly (`2s`, `100ms`,
 * `250us`), `0` for zero. Below microsecond precision it falls back to `ns`, which is for
 * display only: the grammar does not accept it.
 */
export function formatDurationNs(ns: number): string {
  if (!Number.isSafeInteger(ns) || ns < 0) {
    throw new RangeError(`formatDurationNs: ${ns} is not a whole number of nanoseconds >= 0`);
  }
  if (ns === 0) return '0';
  for (const unit of UNITS_LARGEST_FIRST) {
    if (ns % NS_PER_UNIT[unit] === 0) return `${ns / NS_PER_UNIT[unit]}${unit}`;
  }
  return `${ns}ns`;
}

function expectedDuration(allowZero: boolean): string {
  return allowZero
    ? 'expected a non-negative integer with an optional unit s, ms or us (e.g. 0, 50us, 2ms); no unit means seconds'
    : 'expected a positive integer with an optional unit s, ms or us (e.g. 100ms, 250us, 2s); no unit means seconds';
}

function notAUnit(digits: string, letter: string): string {
  const instead = letter === 'm' ? `${digits}ms or ${digits}s` : `${digits}us`;
  return `"${letter}" is not a unit (the Kamailio module reads ${digits}${letter} as ${digits}${letter}s): write ${instead}`;
}

/** For a fractional number of seconds such as 1.5 or 0.0001: the exact text to write instead. */
function suggestExactText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  const us = Math.round(seconds * 1e6);
  if (us === 0 || Math.abs(seconds * 1e6 - us) > 1e-6 || us * NS_PER_UNIT.us > MAX_NS) return '';
  return `: write "${formatDurationNs(us * NS_PER_UNIT.us)}"`;
}
