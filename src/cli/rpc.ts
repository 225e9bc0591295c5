/**
 * `ptimer rpc METHOD [ARGS...]`: the operator's command line, as kamcmd is for Kamailio.
 * Built on the typed client (src/client/connect.ts). `--output json|table|yaml` as kamcli
 * has (`--table` is short for `--output table`), `-s PATH` for the socket as kamcmd has,
 * `--verbose` to say which server answered (two servers on one machine are easy to confuse).
 */
import type { ConnectOptions, ConnectTarget } from '../client/connect.js';
import { RpcCallError, RpcTransportError } from '../rpc/client.js';
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from './args.js';
import { RPC_HELP } from './help.js';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from './output.js';
import { didYouMean } from './suggest.js';
import { connectOrUsage, parseTarget, TARGET_OPTIONS } from './target.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Every method a server of this version answers, for a did-you-mean. Loaded only on that error
 * path: the dispatcher brings the data plane's modules, which an answered call never needs.
 */
async function knownMethods(): Promise<readonly string[]> {
  const { RPC_METHODS } = await import('../rpc/dispatcher.js');
  return Object.keys(RPC_METHODS);
}

const OPTIONS = {
  ...TARGET_OPTIONS,
  output: { type: 'string', short: 'o' },
  table: { type: 'boolean' },
  params: { type: 'string' },
  verbose: { type: 'boolean' },
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
  target: ConnectTarget;
  options: ConnectOptions;
  output: OutputFormat;
  verbose: boolean;
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
      params = JSON.parse(values.params) as typeof params; // its shape is checked below
    } catch {
      throw new UsageError(`--params is not JSON: ${values.params}`, 'rpc');
    }
    if (typeof params !== 'object' || params === null)
      throw new UsageError('--params must be a JSON array or object', 'rpc');
  } else if (rest.length > 0) {
    params = rest.map(convertArg);
  }
  let output: OutputFormat = 'json';
  if (values.output !== undefined) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(values.output)) {
      throw new UsageError(
        `--output must be one of ${OUTPUT_FORMATS.join(', ')}, got "${values.output}"${didYouMean(values.output, OUTPUT_FORMATS)}`,
        'rpc',
      );
    }
    output = values.output as OutputFormat;
  }
  if (values.table) {
    if (values.output !== undefined && values.output !== 'table')
      throw new UsageError(
        `--table is --output table: give one of them, not --table with --output ${values.output}`,
        'rpc',
      );
    output = 'table';
  }
  const { target, options } = parseTarget('rpc', values, env);
  const command: RpcCommand = { method, target, options, output, verbose: Boolean(values.verbose) };
  if (params !== undefined) command.params = params;
  return command;
}

export async function rpcCommand(args: string[], io: Io): Promise<number> {
  const command = parseRpcArgs(args);
  if (command === 'help') {
    io.out(RPC_HELP);
    return EXIT_OK;
  }
  const client = connectOrUsage('rpc', command.target, command.options);
  const started = performance.now();
  if (command.verbose) io.err(`ptimer rpc: ${command.method} -> ${client.server}\n`);
  try {
    const result = await client.call(command.method, command.params);
    if (command.verbose)
      io.err(`ptimer rpc: answered by ${client.server} in ${Math.round(performance.now() - started)} ms\n`);
    else if (Object.keys(command.target).length === 0) {
      // Nothing named a server: say which one answered (another may hold the default port).
      io.err(
        `ptimer rpc: answered by ${client.server} (the default; name a server with --url, -s, PTIMER_URL or PTIMER_SOCKET)\n`,
      );
    }
    io.out(formatResult(command.method, result, command.output));
    return EXIT_OK;
  } catch (err) {
    if (err instanceof RpcCallError) {
      const hint = err.code === -32601 ? didYouMean(command.method, await knownMethods()) : '';
      io.err(
        `ptimer rpc: error ${err.code}: ${err.message}${hint}${command.verbose ? ` (from ${client.server})` : ''}\n`,
      );
      return EXIT_FAILURE;
    }
    if (err instanceof RpcTransportError) {
      io.err(`ptimer rpc: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  } finally {
    await client.close();
  }
}
