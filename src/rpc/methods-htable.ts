/**
 * Kamailio's htable RPC methods, on ptimer's tables (src/modules/htable/htable.c), with its
 * params and result shapes:
 *
 *   htable.get T KEY      -> { item: { name, value, flags, expire } }  flags 2 for a string value
 *                            (AVP_VAL_STR), 0 for a number; expire "YYYY-MM-DD HH:MM:SS" (local
 *                            time) or "NEVER"
 *   htable.sets T KEY STR -> "Ok. Key set to new value."
 *   htable.seti T KEY INT -> "Ok. Key set to new value."
 *   htable.delete T KEY   -> "Ok. Key deleted."   (404 "Key not found in htable.")
 *   htable.dump T [FROM [COUNT]]
 *                         -> [{ entry, size, slot: [{ name, value, type: "str" | "int" }] }, ...]
 *                            one record per non-empty bucket
 *   htable.flush T        -> "Ok. Htable flushed."
 *   htable.listTables     -> [{ name, dbtable, dbmode, expire, updateexpire, size, dmqreplicate }]
 *   htable.stats          -> [{ name, slots, all, min, max }]
 *
 * A set keeps the table's autoexpire, as htable's do (updateexpire 1).
 *
 * Bounded: a dump answers at most 1,000 entries and 512 KiB of keys and values. A larger table
 * (or bucket range) is refused, and the refusal names the bucket range that fits and where to go
 * on: `htable.dump T FROM COUNT` lists buckets FROM .. FROM+COUNT-1, so an operator pages through
 * a large table by bucket ranges, each answer in Kamailio's shape.
 */
import {
  DataMethodError,
  integerParam,
  tableParam,
  textParam,
  type DataAccess,
  type DataMethod,
} from './data-methods.js';
import { TableFullError } from '../data/index.js';

/** Most entries, and bytes of keys and values, one htable.dump answers. */
export const MAX_DUMP_ENTRIES = 1_000;
export const MAX_DUMP_BYTES = 512 * 1024;
/** htable's flag of a string value (AVP_VAL_STR, usr_avp.h). */
const AVP_VAL_STR = 2;

const SET_OK = 'Ok. Key set to new value.';

function set(method: string, data: DataAccess, params: unknown[], value: (raw: unknown) => string | number): string {
  const [t, key, raw] = params;
  const table = tableParam(method, data, t);
  const k = textParam(method, 'key', key)!;
  if (raw === undefined) throw new DataMethodError(400, `${method}: missing the value (params: table, key, value)`);
  try {
    table.set(k, value(raw));
  } catch (err) {
    throw new DataMethodError(err instanceof TableFullError ? 500 : 400, `${method}: ${(err as Error).message}`);
  }
  return SET_OK;
}

/** A monotonic expiry as Kamailio prints it: local time, or NEVER. */
function expireText(expiresAt: number, nowNs: number): string {
  if (!Number.isFinite(expiresAt)) return 'NEVER';
  const d = new Date(Date.now() + (expiresAt - nowNs) / 1e6);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const HTABLE_METHODS: Readonly<Record<string, DataMethod>> = {
  'htable.get': {
    params: 'table, key',
    help: 'One entry: { item: { name, value, flags, expire } } (404 when the key is not set).',
    read: true,
    names: ['table', 'key'],
    call(data, [t, key]) {
      const table = tableParam('htable.get', data, t);
      const k = textParam('htable.get', 'key', key)!;
      const now = Number(process.hrtime.bigint());
      const e = table.entry(k);
      if (!e)
        throw new DataMethodError(
          404,
          `htable.get: Key name doesn't exist in htable (${JSON.stringify(k)} in ${JSON.stringify(table.name)})`,
        );
      return {
        item: {
          name: k,
          value: e.value,
          flags: typeof e.value === 'string' ? AVP_VAL_STR : 0,
          expire: expireText(e.expiresAt, now),
        },
      };
    },
  },
  'htable.sets': {
    params: 'table, key, value',
    help: 'Sets a key to a string value.',
    read: false,
    names: ['table', 'key', 'value'],
    call: (data, params) => set('htable.sets', data, params, (raw) => textParam('htable.sets', 'value', raw)!),
  },
  'htable.seti': {
    params: 'table, key, value',
    help: 'Sets a key to an integer value.',
    read: false,
    names: ['table', 'key', 'value'],
    call: (data, params) =>
      set('htable.seti', data, params, (raw) => integerParam('htable.seti', 'value', raw, -(2 ** 53 - 1), 2 ** 53 - 1)),
  },
  'htable.delete': {
    params: 'table, key',
    help: 'Deletes a key (404 when it is not set).',
    read: false,
    names: ['table', 'key'],
    call(data, [t, key]) {
      const table = tableParam('htable.delete', data, t);
      const k = textParam('htable.delete', 'key', key)!;
      if (!table.delete(k))
        throw new DataMethodError(
          404,
          `htable.delete: Key not found in htable (${JSON.stringify(k)} in ${JSON.stringify(table.name)})`,
        );
      return 'Ok. Key deleted.';
    },
  },
  'htable.dump': {
    params: 'table [, from [, count]]',
    help: `The entries of a table, per non-empty bucket: [{ entry, size, slot: [{ name, value, type }] }]. At most ${MAX_DUMP_ENTRIES} entries per answer: for a larger table give a bucket range (from, count); the refusal names one that fits.`,
    read: true,
    names: ['table', 'from', 'count'],
    call(data, [t, fromParam, countParam]) {
      const table = tableParam('htable.dump', data, t);
      const buckets = table.bucketCount;
      const from = fromParam === undefined ? 0 : integerParam('htable.dump', 'first bucket', fromParam, 0, buckets - 1);
      const count =
        countParam === undefined ? buckets - from : integerParam('htable.dump', 'bucket count', countParam, 1, buckets);
      const { buckets: listed, stoppedAt } = table.dump(from, count, {
        maxEntries: MAX_DUMP_ENTRIES,
        maxBytes: MAX_DUMP_BYTES,
      });
      if (stoppedAt !== null) {
        const fits = stoppedAt - from;
        const last = Math.min(buckets, from + count) - 1;
        throw new DataMethodError(
          400,
          `htable.dump: buckets ${from}-${last} of table ${JSON.stringify(table.name)} hold more than ${MAX_DUMP_ENTRIES} entries or ${MAX_DUMP_BYTES / 1024} KiB; ` +
            (fits > 0
              ? `ask for a range that fits: htable.dump ${table.name} ${from} ${fits}, then go on from bucket ${stoppedAt}`
              : `bucket ${stoppedAt} alone is larger; read its keys with htable.get`),
        );
      }
      return listed.map((b) => ({
        entry: b.bucket,
        size: b.entries.length,
        slot: b.entries.map((e) => ({
          name: e.key,
          value: e.value,
          type: typeof e.value === 'string' ? 'str' : 'int',
        })),
      }));
    },
  },
  'htable.flush': {
    params: 'table',
    help: 'Deletes every entry of a table.',
    read: false,
    names: ['table'],
    call(data, [t]) {
      tableParam('htable.flush', data, t).flush();
      return 'Ok. Htable flushed.';
    },
  },
  'htable.listTables': {
    params: '',
    help: 'Every table with its settings: [{ name, dbtable, dbmode, expire, updateexpire, size, dmqreplicate }] (size: buckets).',
    read: true,
    names: [],
    call(data) {
      return data.tableNames.map((name) => {
        const t = data.table(name);
        return {
          name,
          dbtable: '',
          dbmode: 0,
          expire: t.autoexpire,
          updateexpire: 1,
          size: t.bucketCount,
          dmqreplicate: 0,
        };
      });
    },
  },
  'htable.stats': {
    params: '',
    help: 'Entries per table: [{ name, slots, all, min, max }] (slots: buckets; min and max: entries in the emptiest and fullest bucket).',
    read: true,
    names: [],
    call(data) {
      return data.tableNames.map((name) => {
        const sizes = data.table(name).bucketSizes();
        let all = 0;
        let min = Infinity;
        let max = 0;
        for (const n of sizes) {
          all += n;
          if (n < min) min = n;
          if (n > max) max = n;
        }
        return { name, slots: sizes.length, all, min, max };
      });
    },
  },
};
