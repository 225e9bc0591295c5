/**
 * The flags that say which server `ptimer rpc` and `ptimer top` talk to: `--url URL`,
 * `-s`/`--socket PATH` (kamcmd's flag; `unix:PATH` as kamcmd writes it is accepted too),
 * `--token` (or PTIMER_RPC_TOKEN), `--timeout SECONDS`.
 */
import { connect, type ConnectOptions, type ConnectTarget, type PTimerClient } from '../client/connect.js';
import { RpcTransportError } from '../rpc/client.js';
import { parsePositiveNumber, UsageError } from './args.js';

export const TARGET_OPTIONS = {
  url: { type: 'string' },
  socket: { type: 'string', short: 's' },
  token: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** The longest --timeout accepted, in seconds (a bound: an hour). */
const MAX_TIMEOUT_S = 3600;

export interface TargetFlags {
  url?: string;
  socket?: string;
  token?: string;
  timeout?: string;
}

export function parseTarget(command: string, values: TargetFlags, env: NodeJS.ProcessEnv): { target: ConnectTarget; options: ConnectOptions } {
  if (values.url !== undefined && values.socket !== undefined) throw new UsageError('give --url or --socket, not both', command);
  const timeoutS = values.timeout === undefined ? 30 : parsePositiveNumber(command, '--timeout', values.timeout);
  if (timeoutS > MAX_TIMEOUT_S) throw new UsageError(`--timeout is at most ${MAX_TIMEOUT_S} seconds, got ${values.timeout}`, command);
  const options: ConnectOptions = { timeoutMs: timeoutS * 1000 };
  const token = values.token ?? env.PTIMER_RPC_TOKEN;
  if (token) options.token = token;
  if (values.socket !== undefined) return { target: { socket: socketPath(command, values.socket) }, options };
  if (values.url !== undefined) return { target: { url: values.url }, options };
  return { target: {}, options };
}

/** `PATH` or `unix:PATH`; kamcmd's `tcp:`/`udp:` addresses are BINRPC, which this client does not speak. */
function socketPath(command: string, given: string): string {
  const m = /^(unix|tcp|udp):(.*)$/.exec(given);
  if (!m) {
    if (given === '') throw new UsageError('--socket needs a path', command);
    return given;
  }
  if (m[1] !== 'unix') {
    throw new UsageError(`--socket ${given}: ${m[1]}: is a BINRPC address (kamcmd's); ptimer ${command} speaks JSON-RPC: give --url http://HOST:PORT or --socket unix:PATH`, command);
  }
  if (m[2] === '') throw new UsageError('--socket unix: needs a path', command);
  return m[2]!;
}

/** A client for the target; a target it cannot use (a bad URL, say) is a usage error of `command`. */
export function connectOrUsage(command: string, target: ConnectTarget, options: ConnectOptions): PTimerClient {
  try {
    return connect(target, options);
  } catch (err) {
    if (err instanceof RpcTransportError) throw new UsageError(err.message, command);
    throw err;
  }
}
