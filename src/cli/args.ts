/**
 * Command-line parsing on Node's util.parseArgs (strict: an unknown flag is an error),
 * with its errors turned into one clear line and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from './suggest.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The subcommand whose --help to point at, if any. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A failure to report as one line with exit code 1 (not a stack trace). */
export class CliError extends Error {
  override name = 'CliError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

export function parse<O extends Options>(command: string, args: string[], options: O): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (err) {
    throw new UsageError(
      describeParseError(err as NodeJS.ErrnoException) + suggestFlag(err as NodeJS.ErrnoException, options),
      command,
    );
  }
}

/** ` (did you mean '--table'?)` for an unknown flag close to a known one. */
function suggestFlag(err: NodeJS.ErrnoException, options: Options): string {
  if (err.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return '';
  const flag = /'([^']+)'/.exec(err.message)?.[1]?.replace(/=.*$/, '');
  if (!flag || /^-\d/.test(flag)) return '';
  const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
  return didYouMean(flag, flag.startsWith('--') ? known.filter((k) => k.startsWith('--')) : known);
}

function describeParseError(err: NodeJS.ErrnoException): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = quoted ?? err.message;
      if (/^-\d/.test(flag))
        return `unknown option '${flag}' (to pass a negative number, put it after --, e.g. -- ${flag})`;
      return `unknown option '${flag}'`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /'(--?[\w-]+)/.exec(err.message)?.[1];
      if (/argument missing/.test(err.message) && flag) return `option ${flag} needs a value`;
      if (/does not take an argument/.test(err.message) && flag) return `option ${flag} takes no value`;
      if (/ambiguous/.test(err.message) && flag)
        return `option ${flag} needs a value (for a value that starts with -, write ${flag}=VALUE)`;
      return err.message.replace(/\.$/, '');
    }
    default:
      return err.message.split('\n')[0]!.replace(/\.$/, '');
  }
}

/** A positive number of seconds or milliseconds from a flag. */
export function parsePositiveNumber(command: string, flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive number, got "${text}"`, command);
  }
  return n;
}
