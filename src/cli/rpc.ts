/** `ptimer rpc METHOD [ARGS...]`: the operator's command line, as kamcmd is for Kamailio. */
import type { TimerInfo } from '../control-types.js';
import { callRpc, RpcCallError, RpcTransportError, type RpcTarget } from '../rpc/client.js';
import { EXIT_FAILURE, EXIT_OK, parse, parsePositiveNumber, UsageError } from './args.js';
import { RPC_HELP } from './help.js';
import { listTable } from './table.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const OPTIONS = {
  url: { type: 'string' },
  socket: { type: 'string' },
  token: { type: 'string' },
  table: { type: 'boolean' },
  params: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** An integer or decimal literal is sent as a number; anything else as a string. */
export function convertArg(arg: string): string | number {
  if (/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(arg)) {
    const n = Number(arg);
    if (Number.isFinite(n) && (!/^-?\d+$/.test(arg) || Number.isSafeInteger(n))) return n;
  }
  return arg;
}

export interface RpcCommand {
  method: string;
  params?: unknown[] | Record<string, unknown>;
  target: RpcTarget;
  table: boolean;
}

export function parseRpcArgs(args: string[], env: NodeJS.ProcessEnv = process.env): RpcCommand | 'help' {
  const { values, positionals } = parse('rpc', args, OPTIONS);
  if (values.help) return 'help';
  const [method, ...rest] = positionals;
  if (!method) throw new UsageError('missing METHOD (e.g. ptimer rpc ptimer.list)', 'rpc');
  let params: unknown[] | Record<string, unknown> | undefined;
  if (values.params !== undefined) {
    if (rest.length > 0) throw new UsageError('give the params either as ARGS or with --params, not both', 'rpc');
    try {
      params = JSON.parse(values.params);
    } catch {
      throw new UsageError(`--params is not JSON: ${values.params}`, 'rpc');
    }
    if (typeof params !== 'object' || params === null) throw new UsageError('--params must be a JSON array or object', 'rpc');
  } else if (rest.length > 0) {
    params = rest.map(convertArg);
  }
  if (values.table && method !== 'ptimer.list') throw new UsageError('--table is for ptimer.list only', 'rpc');
  if (values.url !== undefined && values.socket !== undefined) throw new UsageError('give --url or --socket, not both', 'rpc');
  const timeoutMs = values.timeout === undefined ? 30_000 : parsePositiveNumber('rpc', '--timeout', values.timeout) * 1000;
  const target: RpcTarget = { timeoutMs };
  if (values.url !== undefined) target.url = values.url;
  if (values.socket !== undefined) target.socket = values.socket;
  const token = values.token ?? env.PTIMER_RPC_TOKEN;
  if (token) target.token = token;
  const command: RpcCommand = { method, target, table: Boolean(values.table) };
  if (params !== undefined) command.params = params;
  return command;
}

export async function rpcCommand(args: string[], io: Io): Promise<number> {
  const command = parseRpcArgs(args);
  if (command === 'help') {
    io.out(RPC_HELP);
    return EXIT_OK;
  }
  try {
    const result = await callRpc(command.target, command.method, command.params);
    if (command.table) {
      if (!Array.isArray(result)) throw new RpcTransportError('ptimer.list did not answer with a list');
      io.out(`${listTable(result as TimerInfo[])}\n`);
    } else {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
    }
    return EXIT_OK;
  } catch (err) {
    if (err instanceof RpcCallError) {
      io.err(`ptimer rpc: error ${err.code}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof RpcTransportError) {
      io.err(`ptimer rpc: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}
