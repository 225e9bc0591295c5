/**
 * What the operator methods on queues and tables (methods-mqueue.ts, methods-htable.ts) need:
 * the data plane as the host holds it, the shape of a method, and the checks of their params.
 *
 * The methods follow Kamailio's mqueue and htable RPC: the same names, params and result shapes
 * (members named as Kamailio names them), so that kamcmd and kamctl scripts written for
 * Kamailio read them alike. Where Kamailio answers an unknown queue or table with 500, ptimer
 * answers 404 (its code for an unknown name, as for timers); the messages name what exists.
 */
import type { SharedQueue, SharedTable } from '../data/index.js';
import type { LimiterStats } from '../data/data-plane.js';

/** The data plane as the operator methods reach it (PTimer gives its DataPlane). */
export interface DataAccess {
  readonly queueNames: string[];
  readonly tableNames: string[];
  queue(name: string): SharedQueue;
  table(name: string): SharedTable;
  limiterStats(): LimiterStats[];
}

/** No queues, tables or limiters: what a control without a data plane serves. */
export const NO_DATA: DataAccess = {
  queueNames: [],
  tableNames: [],
  queue: (name) => {
    throw new DataMethodError(404, `no queue ${JSON.stringify(name)}`);
  },
  table: (name) => {
    throw new DataMethodError(404, `no table ${JSON.stringify(name)}`);
  },
  limiterStats: () => [],
};

export interface DataMethod {
  /** The params, as system.methodHelp shows them. */
  params: string;
  help: string;
  /** Only reads (a batch's commands wait for its reads). */
  read: boolean;
  /** The param names, in order (positional or named). */
  names: string[];
  call(data: DataAccess, params: unknown[]): unknown;
}

/** A method's refusal: code (400 bad params, 404 unknown name or key, 500 failure) and message. */
export class DataMethodError extends Error {
  constructor(
    readonly code: 400 | 404 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'DataMethodError';
  }
}

/** Longest name or key a method takes (a table's own key bound applies after). */
const MAX_TEXT = 65_536;

/**
 * A name, key or value as text. kamcmd sends `42` as an int and `1.5` as a double: both are
 * taken as the text they were typed as, so a key may be `42`.
 */
export function textParam(method: string, what: string, value: unknown, required = true): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new DataMethodError(400, `${method}: missing the ${what}`);
    return undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string')
    throw new DataMethodError(400, `${method}: the ${what} must be a string; got ${shown(value)}`);
  if (value.length > MAX_TEXT)
    throw new DataMethodError(400, `${method}: the ${what} has ${value.length} characters; at most ${MAX_TEXT}`);
  return value;
}

/** A non-negative integer param (or a string of digits, as kamctl may send it). */
export function integerParam(method: string, what: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*-?\d{1,16}\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new DataMethodError(
      400,
      `${method}: the ${what} must be an integer from ${min} to ${max}; got ${shown(value)}`,
    );
  }
  return n;
}

/** The queue named by the first param; 404 listing the queues when there is none of that name. */
export function queueParam(method: string, data: DataAccess, value: unknown): SharedQueue {
  const name = textParam(method, 'queue name', value)!;
  if (!data.queueNames.includes(name))
    throw new DataMethodError(404, `${method}: no queue ${JSON.stringify(name)}; ${listed('queue', data.queueNames)}`);
  return data.queue(name);
}

/** The table named by the first param; 404 listing the tables when there is none of that name. */
export function tableParam(method: string, data: DataAccess, value: unknown): SharedTable {
  const name = textParam(method, 'table name', value)!;
  if (!data.tableNames.includes(name))
    throw new DataMethodError(404, `${method}: no table ${JSON.stringify(name)}; ${listed('table', data.tableNames)}`);
  return data.table(name);
}

function listed(kind: string, names: string[]): string {
  if (names.length === 0) return `no ${kind}s are configured`;
  return `the ${kind}s are ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`;
}

export function shown(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return 'a value that cannot be shown';
  }
}
