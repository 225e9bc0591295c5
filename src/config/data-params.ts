/**
 * The `queue` and `table` parameters: Kamailio's mqueue and htable definitions, in their
 * own string syntax or as objects, to ResolvedQueue and ResolvedTable.
 *
 * - queue: `name=NAME;size=N;addmode=M;maxbytes=N;maxage=S` (keys in any case, as mqueue reads
 *   them; mqueue's `dbmode` is warned about and ignored) or `{ name, size?, maxBytes?, addmode?, maxage? }`.
 *   `maxage` (ptimer's own) is seconds or a duration (`500ms`): older items are dropped at take time.
 * - table: `NAME=>size=N;autoexpire=S` (htable's form), `name=NAME;size=N;autoexpire=S`, or
 *   `{ name, size?, autoexpire? }`. htable's database and replication keys (`dbtable`,
 *   `cols`, `dbmode`, ...) are warned about and ignored. `size` is htable's exponent: 2^size
 *   buckets; a table holds at most 2^size * 64 entries, and never more than 1,000,000.
 * Any other key is an error, as in mqueue and htable themselves.
 */
import { parseAttributeList, type Attribute } from './attribute-list.js';
import { ConfigError } from './errors.js';
import {
  DEFAULT_QUEUE_BYTES,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_TABLE_SIZE,
  MAX_AUTOEXPIRE_S,
  MAX_QUEUE_BYTES,
  MAX_QUEUE_SIZE,
  MAX_TABLE_SIZE,
  MIN_TABLE_SIZE,
  tableMaxEntries,
} from './limits.js';
import type { ResolvedQueue, ResolvedTable } from './types.js';
import {
  NAME_EXPECTED,
  isPlainObject,
  objectFields,
  parseBoundedDuration,
  parseFlag,
  parseInteger,
  parseName,
} from './values.js';

const QUEUE_EXPECTED =
  'expected a queue string "name=NAME;size=N;addmode=0|1|2;maxbytes=N;maxage=S;cluster=0|1" or an object { name, size?, maxBytes?, addmode?, maxage?, cluster? }';
const QUEUE_STRING_KEYS = ['name', 'size', 'addmode', 'maxbytes', 'maxage', 'cluster'];
const QUEUE_IGNORED_KEYS = ['dbmode'];
const QUEUE_OBJECT_KEYS = ['name', 'size', 'maxBytes', 'addmode', 'maxage', 'cluster'];
/** maxage: from a millisecond to a day. */
const MIN_MAXAGE_NS = 1e6;
const MAX_MAXAGE_NS = 24 * 3600 * 1e9;

const TABLE_EXPECTED =
  'expected a table string "NAME=>size=N;autoexpire=S" or "name=NAME;size=N;autoexpire=S", or an object { name, size?, autoexpire? }';
const TABLE_STRING_KEYS = ['name', 'size', 'autoexpire'];
/** htable's keys for databases, replication and initial values: nothing here uses them. */
const TABLE_IGNORED_KEYS = [
  'dbtable',
  'cols',
  'dbmode',
  'initval',
  'updateexpire',
  'dmqreplicate',
  'coldelim',
  'colnull',
  'reloadat',
];
const TABLE_OBJECT_KEYS = ['name', 'size', 'autoexpire'];

export function resolveQueue(item: unknown, param: string, warnings: string[]): ResolvedQueue {
  let fields: Record<string, unknown>;
  if (typeof item === 'string') {
    fields = {};
    for (const { key, value } of parseAttributeList(item, param)) {
      const lower = key.toLowerCase();
      if (QUEUE_IGNORED_KEYS.includes(lower)) {
        warnings.push(`${param}: "${key}" ignored (ptimer's queues keep no database)`);
      } else if (QUEUE_STRING_KEYS.includes(lower)) {
        const field = lower === 'maxbytes' ? 'maxBytes' : lower;
        if (Object.hasOwn(fields, field))
          throw new ConfigError(param, item, `key "${lower}" is given twice: give each key once`);
        fields[field] = value;
      } else {
        throw new ConfigError(param, item, `unknown key "${key}": the keys are ${QUEUE_STRING_KEYS.join(', ')}`);
      }
    }
  } else if (isPlainObject(item)) {
    fields = objectFields(item, param, QUEUE_OBJECT_KEYS, 'queue');
  } else {
    throw new ConfigError(param, item, QUEUE_EXPECTED);
  }
  const name = requireName(fields.name, item, param, 'queue');
  const at = `queue "${name}"`;
  return {
    name,
    size:
      fields.size === undefined
        ? DEFAULT_QUEUE_SIZE
        : parseInteger(fields.size, `${at}: size`, 1, MAX_QUEUE_SIZE, 'a number of items'),
    maxBytes:
      fields.maxBytes === undefined
        ? DEFAULT_QUEUE_BYTES
        : parseInteger(fields.maxBytes, `${at}: maxBytes`, 1, MAX_QUEUE_BYTES, 'a number of bytes'),
    addmode: fields.addmode === undefined ? 0 : parseAddmode(fields.addmode, `${at}: addmode`),
    ...(fields.cluster !== undefined && parseFlag(fields.cluster, `${at}: cluster`) ? { cluster: true as const } : {}),
    ...(fields.maxage === undefined
      ? {}
      : { maxAgeNs: parseBoundedDuration(fields.maxage, `${at}: maxage`, MIN_MAXAGE_NS, MAX_MAXAGE_NS) }),
  };
}

export function resolveTable(item: unknown, param: string, warnings: string[]): ResolvedTable {
  let fields: Record<string, unknown>;
  if (typeof item === 'string') {
    fields = {};
    const arrow = item.indexOf('=>');
    let attributes: Attribute[];
    if (arrow >= 0) {
      fields.name = item.slice(0, arrow).trim();
      attributes = parseAttributeList(item.slice(arrow + 2), param);
    } else {
      attributes = parseAttributeList(item, param);
    }
    for (const { key, value } of attributes) {
      if (TABLE_IGNORED_KEYS.includes(key)) {
        warnings.push(`${param}: "${key}" ignored (ptimer's tables have no database or replication)`);
      } else if (TABLE_STRING_KEYS.includes(key) && !(arrow >= 0 && key === 'name')) {
        if (Object.hasOwn(fields, key))
          throw new ConfigError(param, item, `key "${key}" is given twice: give each key once`);
        fields[key] = value;
      } else {
        const keys = arrow >= 0 ? TABLE_STRING_KEYS.filter((k) => k !== 'name') : TABLE_STRING_KEYS;
        throw new ConfigError(param, item, `unknown key "${key}": the keys are ${keys.join(', ')}`);
      }
    }
  } else if (isPlainObject(item)) {
    fields = objectFields(item, param, TABLE_OBJECT_KEYS, 'table');
  } else {
    throw new ConfigError(param, item, TABLE_EXPECTED);
  }
  const name = requireName(fields.name, item, param, 'table');
  const at = `table "${name}"`;
  const size =
    fields.size === undefined
      ? DEFAULT_TABLE_SIZE
      : parseInteger(fields.size, `${at}: size`, MIN_TABLE_SIZE, MAX_TABLE_SIZE, 'an exponent (2^size buckets)');
  return {
    name,
    size,
    maxEntries: tableMaxEntries(size),
    autoexpire:
      fields.autoexpire === undefined
        ? 0
        : parseInteger(fields.autoexpire, `${at}: autoexpire`, 0, MAX_AUTOEXPIRE_S, 'a number of seconds'),
  };
}

function requireName(value: unknown, item: unknown, param: string, kind: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(param, item, `a ${kind} needs a name: ${NAME_EXPECTED}`);
  }
  return parseName(value, `${param}: name`);
}

function parseAddmode(value: unknown, param: string): 0 | 1 | 2 {
  const mode =
    value === 0 || value === '0' ? 0 : value === 1 || value === '1' ? 1 : value === 2 || value === '2' ? 2 : undefined;
  if (mode === undefined) {
    throw new ConfigError(
      param,
      value,
      'expected 0 (add every item), 1 (keep the oldest item of a key) or 2 (replace the item of a key)',
    );
  }
  return mode;
}
