/**
 * The flags that say which server `ptimer rpc` and `ptimer top` talk to: `--url URL`,
 * `-s`/`--socket PATH` (kamcmd's flag; `unix:PATH` as kamcmd writes it is accepted too),
 * `--token` (or PTIMER_RPC_TOKEN), `--timeout SECONDS`.
 *
 * Without a flag, the address comes from the environment (PTIMER_URL or PTIMER_SOCKET), then
 * from a small file as kamcli's kamcli.ini (PTIMER_CLI_CONFIG, else
 * $XDG_CONFIG_HOME/ptimer/cli.ini or ~/.config/ptimer/cli.ini, else /etc/ptimer/cli.ini):
 *
 *   # ptimer rpc and ptimer top: where the server is
 *   socket = /run/ptimer/ptimer.sock      # or: url = http://127.0.0.1:8711/RPC
 *   timeout = 5
 *
 * Only when none of these names a server is the default (http://127.0.0.1:8711/RPC) asked,
 * and the target is then `{}` (so `ptimer rpc` can say on stderr which server answered).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ConnectOptions, type ConnectTarget, type PTimerClient } from '../client/connect.js';
import { RpcTransportError } from '../rpc/client.js';
import { parsePositiveNumber, UsageError } from './args.js';
import { didYouMean } from './suggest.js';

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

/** The keys a CLI config file may set. */
const FILE_KEYS = ['url', 'socket', 'timeout', 'token'] as const;
/** A bound on a CLI config file: it holds a few lines. */
const MAX_FILE_BYTES = 64 * 1024;

/** The CLI config file to read, if any: the first of the candidates that exists. */
export function cliConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.PTIMER_CLI_CONFIG) return env.PTIMER_CLI_CONFIG;
  const home = env.XDG_CONFIG_HOME ?? (env.HOME ? join(env.HOME, '.config') : undefined);
  const candidates = [...(home ? [join(home, 'ptimer', 'cli.ini')] : []), '/etc/ptimer/cli.ini'];
  return candidates.find((f) => existsSync(f));
}

/** `key = value` lines (`#` and `;` start comments; `[section]` lines are ignored). */
export function readCliConfig(command: string, file: string): TargetFlags {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES)
      throw new UsageError(`${file}: more than ${MAX_FILE_BYTES / 1024} KiB; a CLI config holds a few lines`, command);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the CLI config ${file}: ${(err as Error).message}`, command);
  }
  const values: TargetFlags = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (line === '' || /^\[.*\]$/.test(line)) continue;
    const m = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new UsageError(`${file}:${i + 1}: expected key = value, got "${line.slice(0, 80)}"`, command);
    const key = m[1]!.toLowerCase();
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(
        `${file}:${i + 1}: unknown key "${key}"${didYouMean(key, FILE_KEYS)}; allowed: ${FILE_KEYS.join(', ')}`,
        command,
      );
    }
    values[key as (typeof FILE_KEYS)[number]] = m[2]!;
  }
  return values;
}

/** Where the address came from, when not from a flag: said in messages about a bad one. */
function fromEnvironmentOrFile(command: string, values: TargetFlags, env: NodeJS.ProcessEnv): TargetFlags {
  if (values.url !== undefined || values.socket !== undefined) return values;
  if (env.PTIMER_URL && env.PTIMER_SOCKET)
    throw new UsageError('PTIMER_URL and PTIMER_SOCKET are both set: keep one', command);
  if (env.PTIMER_URL) return { ...values, url: env.PTIMER_URL };
  if (env.PTIMER_SOCKET) return { ...values, socket: env.PTIMER_SOCKET };
  const file = cliConfigFile(env);
  if (!file) return values;
  const fromFile = readCliConfig(command, file);
  if (fromFile.url !== undefined && fromFile.socket !== undefined)
    throw new UsageError(`${file}: give url or socket, not both`, command);
  return {
    url: fromFile.url,
    socket: fromFile.socket,
    token: values.token ?? fromFile.token,
    timeout: values.timeout ?? fromFile.timeout,
  };
}

export function parseTarget(
  command: string,
  flags: TargetFlags,
  env: NodeJS.ProcessEnv,
): { target: ConnectTarget; options: ConnectOptions } {
  if (flags.url !== undefined && flags.socket !== undefined)
    throw new UsageError('give --url or --socket, not both', command);
  const values = fromEnvironmentOrFile(command, flags, env);
  const timeoutS = values.timeout === undefined ? 30 : parsePositiveNumber(command, '--timeout', values.timeout);
  if (timeoutS > MAX_TIMEOUT_S)
    throw new UsageError(`--timeout is at most ${MAX_TIMEOUT_S} seconds, got ${values.timeout}`, command);
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
    throw new UsageError(
      `--socket ${given}: ${m[1]}: is a BINRPC address (kamcmd's); ptimer ${command} speaks JSON-RPC: give --url http://HOST:PORT or --socket unix:PATH`,
      command,
    );
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
