/**
 * Finding and loading what `ptimer run` and `ptimer check` are given: a config module
 * (.ts/.mts/.js/.mjs: default export = parameters, named exports = routes), or a
 * Kamailio-style file (.cfg/.conf) whose routes come from `--routes MODULE`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { definesFromFlags, parseKamailioCfg, type KamailioCfgResult } from '../config/kamailio-cfg.js';
import type { PTimerConfig } from '../config/types.js';
import { CliError, UsageError } from './args.js';

export const DEFAULT_CONFIG_FILES = ['ptimer.config.ts', 'ptimer.config.js', 'ptimer.config.mjs'];
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
const KAMAILIO_EXTENSIONS = new Set(['.cfg', '.conf']);

export type ConfigSource =
  | { kind: 'module'; path: string }
  | {
      kind: 'kamailio';
      path: string;
      config: PTimerConfig;
      notices: string[];
      routes?: string;
      parsed: KamailioCfgResult;
    };

/** The CONFIG argument, or the first default file in the working directory. */
export function findConfig(command: string, given: string | undefined): string {
  if (given !== undefined) {
    if (!existsSync(given)) throw new CliError(`no such config file: ${given}`);
    return given;
  }
  for (const name of DEFAULT_CONFIG_FILES) if (existsSync(name)) return name;
  throw new UsageError(`no CONFIG given and none of ${DEFAULT_CONFIG_FILES.join(', ')} in ${process.cwd()}`, command);
}

/** `-D NAME[=VALUE]` flags (repeatable) as the defines of a Kamailio-style file's preprocessor. */
export function definesOf(
  command: string,
  flags: readonly string[] | string | undefined,
): Record<string, string | true> {
  try {
    return definesFromFlags(typeof flags === 'string' ? [flags] : (flags ?? []));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, command);
    throw err;
  }
}

/**
 * Reads a Kamailio-style file right away (a syntax error surfaces here, with FILE:LINE:COLUMN);
 * a module is only located. `defines` are the -D flags, for #!ifdef and friends.
 */
export function openConfig(
  command: string,
  path: string,
  routes: string | undefined,
  defines: Record<string, string | true> = {},
): ConfigSource {
  const ext = extname(path).toLowerCase();
  if (KAMAILIO_EXTENSIONS.has(ext)) {
    if (routes !== undefined && !existsSync(routes)) throw new CliError(`no such routes module: ${routes}`);
    const parsed = parseKamailioCfg(readFileSync(path, 'utf8'), path, { defines });
    const { config, notices } = parsed;
    return {
      kind: 'kamailio',
      path,
      config,
      notices,
      routes: routes === undefined ? undefined : resolve(routes),
      parsed,
    };
  }
  if (Object.keys(defines).length > 0) {
    throw new UsageError(`-D is for Kamailio-style files (.cfg): ${path} is a config module`, command);
  }
  if (MODULE_EXTENSIONS.has(ext)) {
    if (routes !== undefined) {
      throw new UsageError(
        `--routes is for Kamailio-style files (.cfg); the routes of ${path} are its own named exports`,
        command,
      );
    }
    return { kind: 'module', path };
  }
  throw new UsageError(
    `cannot tell what kind of config ${path} is: a config module ends in ${[...MODULE_EXTENSIONS].join(', ')}; a Kamailio-style file in ${[...KAMAILIO_EXTENSIONS].join(', ')}`,
    command,
  );
}
