/**
 * `ptimer completion bash|zsh`: a completion script for the shell. The flags of each command
 * are read off its --help text (so a flag added to the help is completed without a second
 * list to keep), the RPC methods are the server's; values: --output formats, files for
 * paths, bash|zsh for completion itself.
 */
import { EXIT_OK, parse, UsageError } from './args.js';
import { COMMAND_HELP } from './help.js';
import { LOG_LEVELS } from '../runtime/logger.js';
import type { Io } from './rpc.js';
import { RPC_METHODS } from '../rpc/dispatcher.js';
import { OUTPUT_FORMATS } from './output.js';
import { didYouMean } from './suggest.js';

export const SHELLS = ['bash', 'zsh'] as const;
const KNOWN_METHODS = Object.keys(RPC_METHODS);
const HELPS: Readonly<Record<string, string>> = COMMAND_HELP;
export const COMMAND_NAMES: readonly string[] = [...Object.keys(COMMAND_HELP), 'help'];

/** The flags a help text lists in its Options section (`-s, --socket PATH` gives -s and --socket). */
export function flagsOf(help: string): string[] {
  const options = help.split(/^Options:$/m)[1] ?? '';
  const flags = new Set<string>();
  for (const line of options.split('\n')) {
    const m = /^ {2}(-[\w-]+(?:, *--[\w-]+)?|--[\w-]+)/.exec(line);
    if (m) for (const f of m[1]!.split(/, */)) flags.add(f);
  }
  return [...flags];
}

export function bashScript(): string {
  const cases = Object.entries(HELPS)
    .map(([cmd, help]) => `    ${cmd}) flags="${flagsOf(help).join(' ')}" ;;`)
    .join('\n');
  return `# ptimer completion for bash: source <(ptimer completion bash)
_ptimer() {
  local cur prev cmd flags i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${COMMAND_NAMES.join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$prev" in
    -o|--output) [[ "$cmd" == rpc ]] && { COMPREPLY=( $(compgen -W "${OUTPUT_FORMATS.join(' ')}" -- "$cur") ); return; } ;;
    --log-level) COMPREPLY=( $(compgen -W "${LOG_LEVELS.join(' ')}" -- "$cur") ); return ;;
    --url|--token|--rpc-token|--http|--timeout|--interval|-d|--stop-timeout|--params) return ;;
  esac
  case "$cmd" in
${cases}
    help) COMPREPLY=( $(compgen -W "${COMMAND_NAMES.filter((c) => c !== 'help').join(' ')}" -- "$cur") ); return ;;
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
    return
  fi
  case "$cmd" in
    rpc)
      for ((i = 2; i < COMP_CWORD; i++)); do
        [[ "\${COMP_WORDS[i]}" == *.* && "\${COMP_WORDS[i-1]}" != -* ]] && return
      done
      COMPREPLY=( $(compgen -W "${KNOWN_METHODS.join(' ')}" -- "$cur") ) ;;
    completion) COMPREPLY=( $(compgen -W "${SHELLS.join(' ')}" -- "$cur") ) ;;
    run|check|build) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
  esac
}
complete -o default -F _ptimer ptimer
`;
}

export function zshScript(): string {
  const commands = COMMAND_NAMES.map((c) => `'${c}'`).join(' ');
  const cases = Object.entries(HELPS)
    .map(([cmd, help]) => `    ${cmd}) flags=(${flagsOf(help).join(' ')}) ;;`)
    .join('\n');
  return `#compdef ptimer
# ptimer completion for zsh: source <(ptimer completion zsh), or save it as _ptimer in $fpath
_ptimer() {
  local cmd=\${words[2]}
  local -a flags
  if (( CURRENT == 2 )); then
    compadd -- ${commands} --help --version
    return
  fi
  case \${words[CURRENT-1]} in
    -o|--output) [[ $cmd == rpc ]] && { compadd -- ${OUTPUT_FORMATS.join(' ')}; return; } ;;
    --log-level) compadd -- ${LOG_LEVELS.join(' ')}; return ;;
    --url|--token|--rpc-token|--http|--timeout|--interval|-d|--stop-timeout|--params) return ;;
  esac
  case $cmd in
${cases}
    help) compadd -- ${COMMAND_NAMES.filter((c) => c !== 'help').join(' ')}; return ;;
    *) return ;;
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $flags
    return
  fi
  case $cmd in
    rpc) compadd -- ${KNOWN_METHODS.join(' ')} ;;
    completion) compadd -- ${SHELLS.join(' ')} ;;
    run|check|build) _files ;;
  esac
}
if [[ \${funcstack[1]} == _ptimer ]]; then _ptimer "$@"; else compdef _ptimer ptimer; fi
`;
}

export function completionCommand(args: string[], io: Io): number {
  const { values, positionals } = parse('completion', args, { help: { type: 'boolean', short: 'h' } } as const);
  if (values.help) {
    io.out(COMMAND_HELP.completion);
    return EXIT_OK;
  }
  const shell = positionals[0];
  if (shell === undefined) throw new UsageError(`missing SHELL: ${SHELLS.join(' or ')}`, 'completion');
  if (positionals.length > 1) throw new UsageError(`one SHELL at a time, got ${positionals.join(' ')}`, 'completion');
  if (shell === 'bash') io.out(bashScript());
  else if (shell === 'zsh') io.out(zshScript());
  else
    throw new UsageError(
      `no completion for "${shell}": ${SHELLS.join(' or ')}${didYouMean(shell, SHELLS)}`,
      'completion',
    );
  return EXIT_OK;
}
