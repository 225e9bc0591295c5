/**
 * The methods a ptimer server answers, with their params and results: what `connect()`'s
 * client and `call()` are typed by.
 */
import type { CommandResult, TimerInfo } from '../control-types.js';
import type { ReloadResult } from '../ptimer.js';
import type { QueueStats } from '../data/shared-queue.js';

/** A control method's answer: each addressed worker's outcome, once the command took effect (the runtime's CommandResult). */
export type ControlResult = CommandResult;

/** `ptimer.reload`'s answer: what the new config changed (the runtime's own type). */
export type { ReloadResult } from '../ptimer.js';

/** Positional params of a control method: `[timer]`, `[timer, worker]`, or named ones. */
export type ControlParams = [timer: string, worker?: number] | { timer: string; worker?: number; force?: boolean };

/** Method name -> params and result. */
export interface RpcMethods {
  'ptimer.list': { params: [] | undefined; result: TimerInfo[] };
  'ptimer.pause': { params: ControlParams; result: ControlResult };
  'ptimer.continue': { params: ControlParams; result: ControlResult };
  'ptimer.start': {
    params: ControlParams | [timer: string, worker: number | null, force: boolean];
    result: ControlResult;
  };
  'ptimer.loop': { params: ControlParams; result: ControlResult };
  'ptimer.end': {
    params: ControlParams | [timer: string, worker: number | null, force: boolean];
    result: ControlResult;
  };
  'ptimer.reload': { params: [] | undefined; result: ReloadResult };
  'mqueue.get_size': { params: [queue: string]; result: { name: string; size: number } };
  'mqueue.get_sizes': { params: [] | undefined; result: Array<{ name: string; size: number }> };
  'mqueue.fetch': { params: [queue: string]; result: { key: string; val: string } };
  'ptimer.push': { params: [queue: string, value: string, key?: string]; result: { name: string; size: number } };
  'ptimer.queues': { params: [] | undefined; result: Array<Omit<QueueStats, 'maxAgeNs'> & { maxage: number }> };
  'htable.get': {
    params: [table: string, key: string];
    result: { item: { name: string; value: string | number; flags: number; expire: string } };
  };
  'htable.sets': { params: [table: string, key: string, value: string]; result: string };
  'htable.seti': { params: [table: string, key: string, value: number]; result: string };
  'htable.delete': { params: [table: string, key: string]; result: string };
  'htable.dump': {
    params: [table: string, from?: number, count?: number];
    result: Array<{
      entry: number;
      size: number;
      slot: Array<{ name: string; value: string | number; type: 'str' | 'int' }>;
    }>;
  };
  'htable.flush': { params: [table: string]; result: string };
  'htable.listTables': {
    params: [] | undefined;
    result: Array<{
      name: string;
      dbtable: string;
      dbmode: number;
      expire: number;
      updateexpire: number;
      size: number;
      dmqreplicate: number;
    }>;
  };
  'htable.stats': {
    params: [] | undefined;
    result: Array<{ name: string; slots: number; all: number; min: number; max: number }>;
  };
  'system.listMethods': { params: [] | undefined; result: string[] };
  'system.methodHelp': { params: [method: string]; result: string };
}

export type RpcMethodName = keyof RpcMethods;

/** The JSON-RPC and reference error codes a call can be answered with. */
export const RPC_ERROR_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalJsonRpc: -32603,
  badArguments: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  internal: 500,
} as const;
