/**
 * The `ptimer` command line: `run`, `rpc`, `check`, `top`, `build`, `completion`, `--help`,
 * `-V`/`--version`. A mistyped command gets a did-you-mean.
 * Exit codes: 0 success, 1 failure (config error, no server, RPC error), 2 usage error
 * (unknown command or flag, missing argument) - always with one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './args.js';
import { COMMAND_HELP, MAIN_HELP } from './help.js';
import type { Io } from './rpc.js';
import { didYouMean } from './suggest.js';

/**
 * Each command is imported when it is run, so a command loads only what it uses: `ptimer rpc`
 * (an operator's quick command, as kamcmd is) does not load the runtime, esbuild or pino that
 * `ptimer run` needs.
 */
const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help: string }> = {
  run: { run: async (a, io) => (await import('./run.js')).runCommand(a, io), help: COMMAND_HELP.run },
  rpc: { run: async (a, io) => (await import('./rpc.js')).rpcCommand(a, io), help: COMMAND_HELP.rpc },
  check: { run: async (a, io) => (await import('./check.js')).checkCommand(a, io), help: COMMAND_HELP.check },
  top: { run: async (a, io) => (await import('./top.js')).topCommand(a, io), help: COMMAND_HELP.top },
  build: { run: async (a, io) => (await import('./build.js')).buildCommand(a, io), help: COMMAND_HELP.build },
  completion: {
    run: async (a, io) => (await import('./completion.js')).completionCommand(a, io),
    help: COMMAND_HELP.completion,
  },
};
const NAMES = Object.keys(COMMANDS);
const unknownCommand = (name: string) =>
  `unknown command '${name}'${didYouMean(name, [...NAMES, 'help'])} (commands: ${NAMES.join(', ')})`;

export const stdio: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [first, ...rest] = argv;
  let command: string | undefined;
  try {
    if (first === undefined) {
      io.err(MAIN_HELP);
      return EXIT_USAGE;
    }
    if (first === '-h' || first === '--help') {
      io.out(MAIN_HELP);
      return EXIT_OK;
    }
    if (first === '-V' || first === '-v' || first === '--version') {
      io.out(`${version()}\n`);
      return EXIT_OK;
    }
    if (first === 'help') {
      const topic = rest[0];
      if (topic === undefined) io.out(MAIN_HELP);
      else if (Object.hasOwn(COMMANDS, topic)) io.out(COMMANDS[topic]!.help);
      else throw new UsageError(unknownCommand(topic));
      return EXIT_OK;
    }
    if (first.startsWith('-')) {
      throw new UsageError(
        `unknown option '${first}'${didYouMean(first, ['--help', '--version'])} (a command comes first: ${NAMES.join(', ')})`,
      );
    }
    if (!Object.hasOwn(COMMANDS, first)) throw new UsageError(unknownCommand(first));
    command = first;
    return await COMMANDS[first]!.run(rest, io);
  } catch (err) {
    const prefix = command ? `ptimer ${command}` : 'ptimer';
    if (err instanceof UsageError) {
      const helpFor = err.command ? `ptimer ${err.command} --help` : 'ptimer --help';
      io.err(`${prefix}: ${err.message} (see ${helpFor})\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CliError || err instanceof ConfigError) {
      io.err(`${prefix}: ${oneLine(err.message)}\n`);
      return EXIT_FAILURE;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`${prefix}: ${oneLine(message)}\n`);
    if (process.env.PTIMER_DEBUG && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ');
}
