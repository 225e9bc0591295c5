/**
 * `ptimer check [CONFIG]`: validate without starting, print the resolved timers.
 * `-o/--output table|json` as `ptimer rpc` has (`--json` is short for `-o json`); in a table,
 * warnings and notices go to stderr, so that stdout holds only the result.
 */
import { locateConfigError, resolveKamailioCfg } from '../config/kamailio-cfg.js';
import type { ResolvedTimer } from '../config/types.js';
import { PTimer } from '../ptimer.js';
import { EXIT_OK, parse, UsageError } from './args.js';
import { definesOf, findConfig, openConfig } from './config-file.js';
import { CHECK_HELP } from './help.js';
import type { Io } from './rpc.js';
import { didYouMean } from './suggest.js';
import { timersTable } from './table.js';

const CHECK_FORMATS = ['table', 'json'] as const;

const OPTIONS = {
  routes: { type: 'string' },
  define: { type: 'string', short: 'D', multiple: true },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CheckResult {
  file: string;
  timers: ResolvedTimer[];
  warnings: string[];
  notices: string[];
}

/** Throws the config's error (ConfigError, KamailioCfgError, or a module that fails to load). */
export async function checkConfig(
  path: string,
  routes: string | undefined,
  defines: Record<string, string | true> = {},
): Promise<CheckResult> {
  const source = openConfig('check', path, routes, defines);
  const silent = { log: { level: 'silent' as const } };
  if (source.kind === 'module') {
    const pt = await PTimer.fromFile(path, silent);
    return { file: path, timers: pt.timers, warnings: pt.warnings, notices: [] };
  }
  if (source.routes !== undefined) {
    let pt: PTimer;
    try {
      pt = await PTimer.create(source.config, { ...silent, routes: source.routes });
    } catch (err) {
      throw locateConfigError(err, source.parsed); // FILE:LINE:COLUMN of the line that gave the value
    }
    return { file: path, timers: pt.timers, warnings: pt.warnings, notices: source.notices };
  }
  const resolved = resolveKamailioCfg(source.parsed);
  return {
    file: path,
    timers: resolved.timers,
    warnings: resolved.warnings,
    notices: [...source.notices, `route names not checked: no --routes MODULE given`],
  };
}

export async function checkCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('check', args, OPTIONS);
  if (values.help) {
    io.out(CHECK_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError(`one CONFIG at a time, got ${positionals.length}`, 'check');
  let format: (typeof CHECK_FORMATS)[number] = values.json ? 'json' : 'table';
  if (values.output !== undefined) {
    if (!(CHECK_FORMATS as readonly string[]).includes(values.output)) {
      throw new UsageError(
        `--output must be one of ${CHECK_FORMATS.join(', ')}, got "${values.output}"${didYouMean(values.output, CHECK_FORMATS)}`,
        'check',
      );
    }
    if (values.json && values.output !== 'json')
      throw new UsageError(
        `--json is --output json: give one of them, not --json with --output ${values.output}`,
        'check',
      );
    format = values.output as (typeof CHECK_FORMATS)[number];
  }
  const path = findConfig('check', positionals[0]);
  const result = await checkConfig(path, values.routes, definesOf('check', values.define));
  if (format === 'json') {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const n = result.timers.length;
  io.out(`${result.file}: OK, ${n} timer${n === 1 ? '' : 's'}\n`);
  if (n > 0) io.out(`${timersTable(result.timers)}\n`);
  for (const w of result.warnings) io.err(`warning: ${w}\n`);
  for (const note of result.notices) io.err(`notice: ${note}\n`);
  return EXIT_OK;
}
