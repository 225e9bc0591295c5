/**
 * readPlainConfig: a config as plain data, read once, before anything is validated.
 *
 * A config comes from user code, so it may hold anything: arrays with holes (`['a', , 'b']`),
 * objects without a prototype, getters that throw, proxies, cycles, symbols, bigints. This
 * copies the levels resolveConfig reads (the config object, each parameter's value, the
 * items of an array, the fields of an item object) into fresh arrays and objects, reading
 * every property once inside a guard, so that what follows sees only data and every
 * problem becomes a ConfigError naming where it was. Deeper values are kept as they are:
 * nothing reads them except describeValue, which prints anything.
 */
import { ConfigError } from './errors.js';
import { MAX_ARRAY_ITEMS } from './limits.js';
import { isPlainObject } from './values.js';

/** How many levels are copied: config -> parameter value -> array item -> item field. */
const COPIED_LEVELS = 3;

/** The config's own string keys and their values; throws ConfigError for what cannot be read. */
export function readPlainConfig(config: unknown, expected: string): Record<string, unknown> {
  if (!isPlainObject(config)) throw new ConfigError('config', config, expected);
  return copyObject(config, 'config', '', COPIED_LEVELS);
}

function copyValue(value: unknown, param: string, levels: number): unknown {
  if (levels <= 0 || value === null || typeof value !== 'object') return value;
  let array: boolean;
  try {
    array = Array.isArray(value);
  } catch (error) {
    throw unreadable(param, error);
  }
  if (array) return copyArray(value as unknown[], param, levels);
  if (isPlainObject(value)) return copyObject(value, param, `${param}.`, levels);
  return value;
}

function copyArray(array: unknown[], param: string, levels: number): unknown[] {
  const length = guard(() => array.length, param);
  if (!Number.isSafeInteger(length) || length < 0) throw unreadable(param, new Error('its length is not a number'));
  if (length > MAX_ARRAY_ITEMS) {
    const error = new ConfigError(param, array, `at most ${MAX_ARRAY_ITEMS} items`);
    error.message = `${param}: an array of ${length} items is not valid; at most ${MAX_ARRAY_ITEMS} items`;
    throw error;
  }
  const out: unknown[] = [];
  for (let i = 0; i < length; i++) {
    const itemParam = `${param}[${i}]`;
    if (!guard(() => Object.hasOwn(array, i), itemParam)) {
      const error = new ConfigError(itemParam, undefined, 'an array may not have holes');
      error.message = `${itemParam}: a hole in the array (two commas in a row, as in ['a', , 'b']?); give a value at every index or remove the extra comma`;
      throw error;
    }
    out.push(
      copyValue(
        guard(() => array[i], itemParam),
        itemParam,
        levels - 1,
      ),
    );
  }
  return out;
}

function copyObject(
  object: Record<string, unknown>,
  param: string,
  prefix: string,
  levels: number,
): Record<string, unknown> {
  const keys = guard(() => Object.keys(object), param);
  if (keys.length > MAX_ARRAY_ITEMS) throw unreadable(param, new Error(`it has ${keys.length} keys`));
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const keyParam = `${prefix}${key}`;
    // defineProperty, not assignment: a key such as __proto__ stays a plain key.
    Object.defineProperty(out, key, {
      value: copyValue(
        guard(() => object[key], keyParam),
        keyParam,
        levels - 1,
      ),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function guard<T>(read: () => T, param: string): T {
  try {
    return read();
  } catch (error) {
    throw unreadable(param, error);
  }
}

function unreadable(param: string, cause: unknown): ConfigError {
  let reason: string;
  try {
    reason =
      cause instanceof Error ? `${cause.name}: ${cause.message}` : typeof cause === 'string' ? cause : 'an exception';
  } catch {
    reason = 'an exception';
  }
  if (reason.length > 200) reason = `${reason.slice(0, 200)}…`;
  const error = new ConfigError(param, undefined, 'a config must be plain data');
  error.message = `${param}: reading it threw (${reason}); a config must be plain data (strings, numbers, arrays and objects)`;
  return error;
}
