/**
 * JSON-like values <-> BINRPC values, the way Kamailio's RPC layer maps them, so that what a
 * method answers over JSON-RPC reads the same in kamcmd:
 *
 * - an object is a struct of named members (null and undefined members are left out:
 *   BINRPC has no null that kamcmd can print);
 * - an array at the top of a result is one record per element (a Kamailio method that adds
 *   several values answers so, and kamcmd's `ls`/`help` read system.listMethods that way);
 *   an array inside is a struct of unnamed values, as Kamailio's `[` is;
 * - true/false are ints 1/0; an integer in 32 bits is an int, any other finite number a
 *   double (three decimals, BINRPC's fixed point), one beyond that a str;
 * - strings are str, bytes are bytes.
 *
 * And back, for a request's params: int and double are numbers, str and bytes strings, a
 * struct an object (or an array when its members have no names).
 */
import {
  BINRPC_MAX_DEPTH,
  BINRPC_MAX_DOUBLE,
  BinrpcError,
  type BinrpcMember,
  type BinrpcValue,
} from './binrpc-codec.js';

/** The records of a reply carrying `result`. */
export function resultRecords(result: unknown): BinrpcValue[] {
  if (result === undefined || result === null) return [];
  if (Array.isArray(result)) return result.filter((x) => x !== null && x !== undefined).map((x) => toBinrpc(x, 0));
  return [toBinrpc(result, 0)];
}

export function toBinrpc(x: unknown, depth = 0): BinrpcValue {
  if (depth > BINRPC_MAX_DEPTH) throw new BinrpcError(`the value nests deeper than ${BINRPC_MAX_DEPTH}`);
  switch (typeof x) {
    case 'boolean':
      return { kind: 'int', value: x ? 1 : 0 };
    case 'number':
      if (Number.isInteger(x) && x >= -0x80000000 && x <= 0x7fffffff) return { kind: 'int', value: x };
      if (Number.isFinite(x) && Math.abs(x) <= BINRPC_MAX_DOUBLE) return { kind: 'double', value: x };
      return { kind: 'str', value: String(x) };
    case 'bigint':
      return x >= -0x80000000n && x <= 0x7fffffffn
        ? { kind: 'int', value: Number(x) }
        : { kind: 'str', value: x.toString() };
    case 'string':
      return { kind: 'str', value: x };
    case 'object': {
      if (x === null) return { kind: 'str', value: '' };
      if (x instanceof Uint8Array) return { kind: 'bytes', value: x };
      const members: BinrpcMember[] = [];
      if (Array.isArray(x)) {
        for (const item of x)
          if (item !== null && item !== undefined) members.push({ value: toBinrpc(item, depth + 1) });
      } else {
        for (const [name, value] of Object.entries(x)) {
          if (value !== null && value !== undefined) members.push({ name, value: toBinrpc(value, depth + 1) });
        }
      }
      return { kind: 'struct', members };
    }
    default:
      return { kind: 'str', value: String(x) };
  }
}

/** A BINRPC value as a param for the dispatcher. */
export function fromBinrpc(v: BinrpcValue): unknown {
  switch (v.kind) {
    case 'int':
    case 'double':
    case 'str':
      return v.value;
    case 'bytes':
      return Buffer.from(v.value).toString('utf8');
    case 'null':
      return null;
    case 'array':
      return v.items.map(fromBinrpc);
    case 'struct': {
      if (v.members.some((m) => m.name === undefined)) return v.members.map((m) => fromBinrpc(m.value));
      const out: Record<string, unknown> = {};
      for (const m of v.members)
        Object.defineProperty(out, m.name!, {
          value: fromBinrpc(m.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    }
  }
}

interface ListedTimer {
  name: string;
  workers?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

/**
 * ptimer.list as the reference's module answers it over BINRPC - one struct member per timer,
 * named by the timer, its workers under `workers`, each with `croute` (the route it is in) -
 * with every field of ptimer's own list beside those (a worker's `paused` is an int 0/1 here).
 */
export function referenceList(list: unknown): BinrpcValue[] {
  if (!Array.isArray(list)) return resultRecords(list);
  const members: BinrpcMember[] = (list as ListedTimer[]).map((timer) => {
    const fields: Record<string, unknown> = {};
    // The reference lists a timer without a start or end route with an empty name.
    for (const [k, v] of Object.entries(timer)) fields[k] = v === null && (k === 'start' || k === 'end') ? '' : v;
    if (Array.isArray(timer.workers)) fields.workers = timer.workers.map(withCroute);
    return { name: String(timer.name), value: toBinrpc(fields, 1) };
  });
  return [{ kind: 'struct', members }];
}

function withCroute(worker: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(worker)) {
    out[k] = v;
    if (k === 'route') out.croute = v;
  }
  if (!('route' in worker)) out.croute = 'none';
  return out;
}

/**
 * kamcmd guesses each argument's type: `1` goes as an int, `t1` as a str, `1.5` as a double.
 * For the timer commands, a timer name that came as a number is taken as its text (a timer
 * may be called 42), and a worker index that came as a numeric string or an integral double
 * as the integer, as the reference's module reads it. Anything else is left for the
 * dispatcher to refuse with its message.
 */
export const TIMER_COMMAND_METHODS: ReadonlySet<string> = new Set([
  'ptimer.pause',
  'ptimer.continue',
  'ptimer.start',
  'ptimer.loop',
  'ptimer.end',
]);

export function coerceTimerParams(params: unknown[]): unknown[] {
  const out = [...params];
  if (typeof out[0] === 'number' && Number.isInteger(out[0])) out[0] = String(out[0]);
  const w = out[1];
  if (typeof w === 'string' && /^\s*[+-]?\d{1,9}\s*$/.test(w)) out[1] = Number(w);
  return out;
}
