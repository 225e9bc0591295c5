/**
 * The reference's `key=value;key=value` strings (timer definitions, route assignments).
 * Keys and values are trimmed; a trailing `;` and empty segments are fine. Which keys are
 * allowed is the caller's business.
 */
import { ConfigError } from './errors.js';

export interface Attribute {
  key: string;
  value: string;
}

const EXPECTED = 'expected key=value pairs separated by ";" (e.g. name=t1;interval=100ms)';

export function parseAttributeList(text: string, param: string): Attribute[] {
  if (typeof text !== 'string') throw new ConfigError(param, text, EXPECTED);
  const attributes: Attribute[] = [];
  const seen = new Set<string>();
  for (const rawSegment of text.split(';')) {
    const segment = rawSegment.trim();
    if (segment === '') continue;
    const equals = segment.indexOf('=');
    if (equals < 0) throw new ConfigError(param, text, `"${segment}" has no "=": ${EXPECTED}`);
    const key = segment.slice(0, equals).trim();
    if (key === '') throw new ConfigError(param, text, `"${segment}" has no key before "=": ${EXPECTED}`);
    if (seen.has(key)) throw new ConfigError(param, text, `key "${key}" is given twice: give each key once`);
    seen.add(key);
    attributes.push({ key, value: segment.slice(equals + 1).trim() });
  }
  return attributes;
}
