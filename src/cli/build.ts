/**
 * `ptimer build CONFIG.ts [-o OUT.mjs]`: compiles a .ts config or routes module (with the
 * local files it imports) into one JavaScript module for production, so that `ptimer run
 * OUT.mjs` loads no compiler and writes no cache.
 */
import { existsSync } from 'node:fs';
import { extname, relative } from 'node:path';
import { buildModule } from '../runtime/load-module.js';
import { CliError, EXIT_OK, parse, UsageError } from './args.js';
import { BUILD_HELP } from './help.js';
import type { Io } from './rpc.js';

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `ptimer.config.ts` -> `ptimer.config.mjs`, next to it. */
export function defaultOutFile(config: string): string {
  return config.slice(0, config.length - extname(config).length) + '.mjs';
}

export async function buildCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('build', args, OPTIONS);
  if (values.help) {
    io.out(BUILD_HELP);
    return EXIT_OK;
  }
  const [config, ...extra] = positionals;
  if (config === undefined) throw new UsageError('missing CONFIG.ts (e.g. ptimer build ptimer.config.ts)', 'build');
  if (extra.length > 0) throw new UsageError(`one CONFIG at a time, got ${positionals.join(' ')}`, 'build');
  if (!['.ts', '.mts'].includes(extname(config))) {
    throw new UsageError(`${config}: build compiles a .ts or .mts module (a .js or .mjs runs as it is)`, 'build');
  }
  if (!existsSync(config)) throw new CliError(`no such config file: ${config}`);
  const out = values.out ?? defaultOutFile(config);
  if (!['.mjs', '.js'].includes(extname(out)))
    throw new UsageError(
      `-o ${out}: the output is an ES module: end it in .mjs (or .js in a "type": "module" package)`,
      'build',
    );
  let result;
  try {
    result = await buildModule(config, out);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const n = result.inputs.length;
  io.out(
    `${relative(process.cwd(), result.outfile) || result.outfile}: built from ${n} file${n === 1 ? '' : 's'} (map: ${relative(process.cwd(), result.outfile)}.map)\n`,
  );
  return EXIT_OK;
}
