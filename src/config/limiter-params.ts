/**
 * The `limiter` parameter and a timer's `limit`: named window limits that several timers share.
 *
 * - limiter: `name=NAME;limit=N/W` (keys in any case) or `{ name, limit }`. Every timer whose
 *   `limit` names it takes through one window: N items in any sliding window W across all their
 *   workers together (the operator-switch case: two timers draining one queue to one upstream).
 * - a timer's `limit`: `N/W` (a window of its own, as before) or the name of a limiter.
 *
 * An unknown limiter name is an error that lists the limiters there are and suggests the closest
 * one when it looks like a slip of the keyboard.
 */
import { closest } from '../cli/suggest.js';
import { parseAttributeList } from './attribute-list.js';
import { ConfigError } from './errors.js';
import { MAX_LIMIT_COUNT, MAX_LIMIT_WINDOW_NS } from './limits.js';
import type { ResolvedLimit, ResolvedLimiter } from './types.js';
import { NAME_EXPECTED, isName, isPlainObject, objectFields, parseName, parseRate } from './values.js';

/** Most limiters one config may define. */
export const MAX_LIMITERS = 1_000;

const LIMITER_EXPECTED =
  'expected a limiter string "name=NAME;limit=N/W" (e.g. "name=carrier1;limit=50/1s") or an object { name, limit }';
const LIMITER_KEYS = ['name', 'limit'];

/** `N/W`: at most N items taken in any window W. */
export function parseRateLimit(value: unknown, param: string): ResolvedLimit {
  return parseRate(value, param, { maxCount: MAX_LIMIT_COUNT, maxWindowNs: MAX_LIMIT_WINDOW_NS, example: '50/1s' });
}

/** One item of the `limiter` parameter. */
export function resolveLimiter(item: unknown, param: string): ResolvedLimiter {
  let fields: Record<string, unknown>;
  if (typeof item === 'string') {
    fields = {};
    for (const { key, value } of parseAttributeList(item, param)) {
      const lower = key.toLowerCase();
      if (!LIMITER_KEYS.includes(lower))
        throw new ConfigError(param, item, `unknown key "${key}": the keys are name and limit`);
      if (Object.hasOwn(fields, lower))
        throw new ConfigError(param, item, `key "${lower}" is given twice: give each key once`);
      fields[lower] = value;
    }
  } else if (isPlainObject(item)) {
    fields = objectFields(item, param, LIMITER_KEYS, 'limiter');
  } else {
    throw new ConfigError(param, item, LIMITER_EXPECTED);
  }
  if (fields.name === undefined || fields.name === '')
    throw new ConfigError(param, item, `a limiter needs a name: ${NAME_EXPECTED}`);
  const name = parseName(fields.name, `${param}: name`);
  if (fields.limit === undefined)
    throw new ConfigError(
      `limiter "${name}"`,
      item,
      'a limiter needs its limit: limit=N/W in a string, limit in an object (e.g. 50/1s)',
    );
  const { count, windowNs, text } = parseRateLimit(fields.limit, `limiter "${name}": limit`);
  return { name, count, windowNs, text };
}

/**
 * A timer's `limit` as written: a rate (its own window) or, for a name, a reference to a limiter
 * (`{ limiter: name }` with the count still to be filled in by `bindLimit`).
 */
export function parseTimerLimit(value: unknown, param: string): ResolvedLimit {
  // A bare number (`limit=50`) is a rate missing its window, not a name.
  if (typeof value === 'string' && !value.includes('/') && isName(value.trim()) && !/^[\d.]+$/.test(value.trim())) {
    return { count: 0, windowNs: 0, text: value.trim(), limiter: value.trim() };
  }
  return parseRateLimit(value, param);
}

/** A timer's reference to a limiter, checked against those defined and given their N/W. */
export function bindLimit(
  limit: ResolvedLimit,
  param: string,
  limiters: ReadonlyMap<string, ResolvedLimiter>,
): ResolvedLimit {
  if (limit.limiter === undefined) return limit;
  const found = limiters.get(limit.limiter);
  if (found) return { count: found.count, windowNs: found.windowNs, text: found.text, limiter: found.name };
  const names = [...limiters.keys()];
  const near = closest(limit.limiter, names);
  const known =
    names.length === 0
      ? 'no limiters are defined (limiter: ["name=NAME;limit=N/W"] defines one)'
      : `the limiters are ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`;
  throw new ConfigError(
    param,
    limit.limiter,
    `expected N/W (e.g. 50/1s) or the name of a limiter; ${near ? `did you mean "${near}"? ` : ''}${known}`,
  );
}
