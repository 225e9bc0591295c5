/**
 * Kamailio-style config files: the `modparam("ptimer", "PARAM", VALUE)` lines of a
 * kamailio.cfg (and mqueue's and htable's definitions) turned into a PTimerConfig; the
 * routes come from a separate module.
 *
 * What is read:
 * - The preprocessor, evaluated as Kamailio evaluates it (kamailio-lexer.ts): `#!define`,
 *   `#!ifdef`, `#!ifndef`, `#!else`, `#!endif`, `#!trydef`, `#!redefine`, `#!undef`, the
 *   `!!` spelling too, and defines given as `options.defines` (the CLI's `-D NAME[=VALUE]`).
 * - `modparam(MODULE, "PARAM", VALUE)`, MODULE a regular expression as Kamailio reads it
 *   (kamailio-modules.ts): for ptimer, PARAM is a ptimer parameter; for mqueue, `mqueue`
 *   (and `mqueue_name`) define a queue; for htable, `htable` defines a table. VALUE is a
 *   string in double (or single) quotes, adjacent strings joined, or an integer; a define
 *   may stand for any of them.
 * - Comments: `#` and `//` to the end of the line, `/* ... *\/` blocks (nested).
 * - LF, CRLF and CR line ends.
 *
 * What is skipped, with one notice each: `loadmodule`/`loadpath`/`mpath`, other modules'
 * `modparam` lines, global parameters (`children=4`), `cfgengine` and other core
 * statements, route blocks, `include_file`/`import_file` (not followed).
 *
 * What is an error, naming FILE:LINE:COLUMN: anything else, a bare word where a value
 * belongs, an unknown ptimer parameter, an unclosed string, comment or #!ifdef, and a
 * second start/loop/end route for one timer. Value errors found by resolveConfig are
 * mapped back to the modparam line that gave the value: use resolveKamailioCfg.
 *
 * Time is linear in the text's length: one pass, no backtracking regex over the text.
 */
import { parseAttributeList } from './attribute-list.js';
import { ConfigError, ConfigErrors, describeValue, listProblems } from './errors.js';
import { checkDefines } from './kamailio-defines.js';
import { KamailioCfgError } from './kamailio-error.js';
import { Lexer, Preprocessor, normalizeLineEnds, type Token } from './kamailio-lexer.js';
import { matchModules } from './kamailio-modules.js';
import { CONFIG_KEYS, resolveConfig, type ResolveOptions } from './resolve.js';
import type { PTimerConfig, ResolvedConfig } from './types.js';

export { KamailioCfgError } from './kamailio-error.js';
export { definesFromFlags, parseDefineFlag, type DefineFlag } from './kamailio-defines.js';

export interface KamailioCfgOptions {
  /** Names defined before the file is read, as `-D NAME` (true) or `-D NAME=VALUE` give them. */
  defines?: Record<string, string | true>;
}

/** Where a value was given: line and column of the value in its modparam. */
export interface CfgLocation {
  line: number;
  column: number;
}

export interface KamailioCfgResult {
  config: PTimerConfig;
  /** One line per thing that was read but ignored, e.g. `kamailio.cfg:2: loadmodule "mqueue.so" ignored`. */
  notices: string[];
  /** The file name used in messages. */
  file: string;
  /**
   * Per parameter, where each item came from (index = position in the config's array);
   * a single-valued parameter has one entry, the modparam whose value counts.
   */
  origins: Record<string, CfgLocation[]>;
}

/** The ptimer parameters a Kamailio-style file may set: the same as a config module's. */
export const PTIMER_PARAMS = CONFIG_KEYS;
type PTimerParam = (typeof PTIMER_PARAMS)[number];
type RepeatableParam = 'timer' | 'start' | 'loop' | 'end' | 'queue' | 'table';
const REPEATABLE = new Set<string>(['timer', 'start', 'loop', 'end', 'queue', 'table'] satisfies RepeatableParam[]);
const ROUTE_PARAMS = new Set<string>(['start', 'loop', 'end']);
const INTEGER_PARAMS = new Set<string>(['default_type', 'default_nworkers', 'default_threads', 'stuck_after']);

/** A file larger than this is refused before it is read. */
export const MAX_CFG_CHARS = 16 * 1024 * 1024;

const ROUTE_BLOCKS = new Set([
  'route',
  'request_route',
  'reply_route',
  'onreply_route',
  'failure_route',
  'branch_route',
  'branch_failure_route',
  'event_route',
  'onsend_route',
]);
const LOAD_STATEMENTS = new Set(['loadmodule', 'loadmodulex', 'loadpath', 'mpath']);

type Value = { kind: 'string'; value: string } | { kind: 'int'; value: number };

export function parseKamailioCfg(
  text: string,
  file = 'kamailio.cfg',
  options: KamailioCfgOptions = {},
): KamailioCfgResult {
  if (typeof text !== 'string') throw new KamailioCfgError(file, 1, 1, 'expected the text of the file as a string');
  if (text.length > MAX_CFG_CHARS) {
    throw new KamailioCfgError(
      file,
      1,
      1,
      `the file has ${text.length} characters; a Kamailio-style file may have at most ${MAX_CFG_CHARS} (16 MiB)`,
    );
  }
  let defines: Record<string, string | true>;
  try {
    defines = checkDefines(options.defines);
  } catch (error) {
    if (error instanceof ConfigError) throw new KamailioCfgError(file, 1, 1, error.message, error.value, error);
    throw error;
  }
  return new Parser(normalizeLineEnds(text), file, defines).parse();
}

/**
 * resolveConfig for a parsed file, with every ConfigError mapped to the modparam line that
 * gave the offending value: a KamailioCfgError `FILE:LINE:COLUMN: <resolveConfig's message>`.
 */
export function resolveKamailioCfg(parsed: KamailioCfgResult, options: ResolveOptions = {}): ResolvedConfig {
  try {
    return resolveConfig(parsed.config, options);
  } catch (error) {
    throw locateConfigError(error, parsed);
  }
}

/** A ConfigError of resolveConfig as a KamailioCfgError at its modparam line; anything else as it is. */
export function locateConfigError(error: unknown, parsed: KamailioCfgResult): unknown {
  if (!(error instanceof ConfigError) || error instanceof KamailioCfgError) return error;
  if (error instanceof ConfigErrors) {
    // Each problem at its own line; the error as a whole at the first one's.
    const located = error.errors.map((problem) => locateConfigError(problem, parsed) as KamailioCfgError);
    const first = located[0]!;
    return new KamailioCfgError(
      parsed.file,
      first.line,
      first.column,
      listProblems(located.map((problem) => problem.message)),
      undefined,
      error,
    );
  }
  const origin = error.origin;
  const locations = origin ? parsed.origins[origin.key] : undefined;
  const at = locations?.[origin?.index ?? 0] ?? locations?.at(-1) ?? { line: 1, column: 1 };
  return new KamailioCfgError(parsed.file, at.line, at.column, error.message, error.value, error);
}

class Parser {
  private readonly lexer: Lexer;
  private readonly notices: string[] = [];
  private readonly config: PTimerConfig = {};
  private readonly origins: Record<string, CfgLocation[]> = {};
  /** Line of the last assignment of each single-valued parameter. */
  private readonly setOn = new Map<string, number>();
  /** `loop:TIMER` -> where the first such route was given. */
  private readonly routesSeen = new Map<string, { line: number; route: string }>();
  /** A second route for one timer: reported after the whole file has parsed, so syntax errors come first. */
  private secondRoute: KamailioCfgError | null = null;

  constructor(
    text: string,
    private readonly file: string,
    defines: Record<string, string | true>,
  ) {
    this.lexer = new Lexer(text, new Preprocessor(file, this.notices, defines));
  }

  parse(): KamailioCfgResult {
    for (;;) {
      const tok = this.next();
      if (tok.kind === 'eof') break;
      if (tok.kind === 'punct' && tok.value === ';') continue; // stray separators are harmless
      if (tok.kind !== 'word') {
        throw this.error(
          tok,
          `unexpected ${describe(tok)}; expected modparam(...), loadmodule "...", a global parameter or a route block`,
        );
      }
      const word = tok.value;
      if (word === 'modparam' || word === 'modparamx') this.modparam(tok);
      else if (LOAD_STATEMENTS.has(word)) this.loadStatement(tok);
      else if (word === 'include_file' || word === 'import_file') this.includeStatement(tok);
      else if (ROUTE_BLOCKS.has(word)) this.skipRouteBlock(tok);
      else if (this.isPunct(this.peek(), '=')) this.skipGlobalParam(tok);
      else if (this.peek().kind === 'string') this.skipCoreStatement(tok);
      else {
        throw this.error(
          tok,
          `unexpected ${describe(tok)}; expected modparam(...), loadmodule "...", a global parameter (name=value), a core statement (name "value") or a route block`,
        );
      }
    }
    this.lexer.checkClosed();
    if (this.secondRoute) throw this.secondRoute;
    return { config: this.config, notices: this.notices, file: this.file, origins: this.origins };
  }

  // ---- statements ----

  private modparam(start: Token): void {
    this.expectPunct('(', 'after modparam');
    const module = this.expectString('the module name');
    this.expectPunct(',', 'after the module name');
    const param = this.expectString('the parameter name');
    this.expectPunct(',', 'after the parameter name');
    const valueTok = this.peek();
    const value = this.value(module.value, param.value);
    this.expectPunct(')', 'after the value (a value is one quoted string, or adjacent quoted strings, or an integer)');
    this.optionalSemicolon();

    const matched = matchModules(module.value);
    if ('error' in matched) throw this.error(module, matched.error, module.value);
    if (matched.modules.length === 0) {
      this.notice(start, `modparam for module "${module.value}" ignored`);
      return;
    }
    if (matched.regex) {
      this.notice(
        start,
        `modparam module name "${module.value}" is a regular expression (as in Kamailio): it names ${matched.modules.join(', ')}`,
      );
    }
    for (const name of matched.modules) {
      if (name === 'ptimer') this.applyPtimerParam(param, valueTok, value);
      else if (name === 'mqueue') this.applyMqueueParam(start, param, valueTok, value);
      else this.applyHtableParam(start, param, valueTok, value);
    }
  }

  private applyPtimerParam(paramTok: Token & { kind: 'string' }, valueTok: Token, value: Value): void {
    const name = paramTok.value;
    if (!(PTIMER_PARAMS as readonly string[]).includes(name)) {
      throw this.error(
        paramTok,
        `unknown ptimer parameter ${quoteShort(name)}; the parameters are ${PTIMER_PARAMS.join(', ')}`,
      );
    }
    const param = name as PTimerParam;
    if (REPEATABLE.has(param)) {
      const text = this.requireString(`modparam("ptimer", "${param}", ...)`, valueTok, value);
      if (ROUTE_PARAMS.has(param)) this.checkSecondRoute(param, valueTok, text);
      this.push(param as RepeatableParam, text, valueTok);
      return;
    }
    const previous = this.setOn.get(param);
    if (previous !== undefined) {
      this.notice(valueTok, `${param} set again (first set on line ${previous}); the last value counts`);
    }
    this.setOn.set(param, valueTok.line);
    const config = this.config as Record<string, unknown>;
    if (INTEGER_PARAMS.has(param) && value.kind === 'string' && isIntegerText(value.value)) {
      // Integer parameters; a quoted integer is taken as one (as Kamailio does).
      config[param] = Number(value.value.trim());
    } else {
      config[param] = value.value;
    }
    this.origins[param] = [{ line: valueTok.line, column: valueTok.col }];
  }

  /** mqueue's `mqueue` (a queue definition) and `mqueue_name` (a queue of that name, with defaults). */
  private applyMqueueParam(start: Token, paramTok: Token & { kind: 'string' }, valueTok: Token, value: Value): void {
    if (paramTok.value === 'mqueue' || paramTok.value === 'mqueue_name') {
      const text = this.requireString(`modparam("mqueue", "${paramTok.value}", ...)`, valueTok, value);
      this.push('queue', paramTok.value === 'mqueue' ? text : `name=${text}`, valueTok);
      return;
    }
    this.notice(
      start,
      `modparam("mqueue", ${quoteShort(paramTok.value)}) ignored: ptimer's queues are defined by the mqueue parameter alone`,
    );
  }

  /** htable's `htable` (a table definition). */
  private applyHtableParam(start: Token, paramTok: Token & { kind: 'string' }, valueTok: Token, value: Value): void {
    if (paramTok.value === 'htable') {
      this.push('table', this.requireString('modparam("htable", "htable", ...)', valueTok, value), valueTok);
      return;
    }
    this.notice(
      start,
      `modparam("htable", ${quoteShort(paramTok.value)}) ignored: ptimer's tables are defined by the htable parameter alone`,
    );
  }

  private push(key: RepeatableParam, text: string, at: Token): void {
    const config = this.config as Record<string, unknown>;
    const list = (config[key] ??= []) as unknown[];
    list.push(text);
    (this.origins[key] ??= []).push({ line: at.line, column: at.col });
  }

  private requireString(what: string, valueTok: Token, value: Value): string {
    if (value.kind !== 'string')
      throw this.error(valueTok, `${what} takes a string in double quotes, not the integer ${value.value}`);
    return value.value;
  }

  /** A timer has one start, one loop and one end route; a second one is the reference's typo, not an override. */
  private checkSecondRoute(kind: string, at: Token, text: string): void {
    let timer = '';
    let route = '';
    try {
      for (const { key, value } of parseAttributeList(text, kind)) {
        if (key === 'timer') timer = value;
        else if (key === 'route') route = value;
      }
    } catch {
      return; // malformed: resolveConfig explains what is wrong
    }
    if (!timer) return;
    const key = `${kind}:${timer}`;
    const first = this.routesSeen.get(key);
    if (first) {
      const hint =
        kind === 'loop'
          ? `; if the route on line ${first.line} is meant to run once when the worker starts, write modparam("ptimer", "start", ...) there`
          : '';
      this.secondRoute ??= this.error(
        at,
        `second ${kind} route for timer ${quoteShort(timer)} (${quoteShort(route)}); the first is ${quoteShort(first.route)} on line ${first.line}, and a timer has one ${kind} route${hint}`,
      );
      return;
    }
    this.routesSeen.set(key, { line: at.line, route });
  }

  private loadStatement(start: Token & { kind: 'word' }): void {
    if (this.isPunct(this.peek(), '=')) this.next(); // mpath="..."
    const paren = this.isPunct(this.peek(), '(');
    if (paren) this.next();
    const what = this.expectString(`the ${start.value} argument`).value;
    if (paren) this.expectPunct(')', `after the ${start.value} argument`);
    this.optionalSemicolon();
    this.notice(start, `${start.value} ${quoteShort(what)} ignored`);
  }

  private includeStatement(start: Token & { kind: 'word' }): void {
    const what = this.expectString(`the ${start.value} file name`).value;
    this.optionalSemicolon();
    this.notice(start, `${start.value} ${quoteShort(what)} not followed: put the ptimer modparam lines in this file`);
  }

  /** `route[NAME] { ... }`, `request_route { ... }`: skipped by brace matching. */
  private skipRouteBlock(start: Token & { kind: 'word' }): void {
    let label = start.value;
    let tok = this.next();
    if (this.isPunct(tok, '[')) {
      const parts: string[] = [];
      for (tok = this.next(); !this.isPunct(tok, ']'); tok = this.next()) {
        if (tok.kind === 'eof') throw this.error(start, `${start.value}[ is not closed with ]`);
        if (parts.length < 64) parts.push(String(tok.kind === 'int' ? tok.text : tok.value));
      }
      label += `[${parts.join('').slice(0, 80)}]`;
      tok = this.next();
    }
    if (!this.isPunct(tok, '{')) {
      throw this.error(tok, `expected { to open the ${label} block, found ${describe(tok)}`);
    }
    this.lexer.skipBalancedBraces(start.line, start.col, label);
    this.notice(start, `${label} block ignored: routes come from the routes module (--routes)`);
  }

  private skipGlobalParam(start: Token & { kind: 'word' }): void {
    this.next(); // '='
    // The value runs to the end of the line (listen=udp:1.2.3.4:5060 advertise ...), or to a ';'.
    this.lexer.skipRestOfStatement();
    this.notice(start, `global parameter ${start.value} ignored`);
  }

  /** `cfgengine "lua"` and other `name "value"` statements of the core. */
  private skipCoreStatement(start: Token & { kind: 'word' }): void {
    const arg = this.next() as Token & { kind: 'string' };
    this.lexer.skipRestOfStatement();
    const why =
      start.value === 'cfgengine' ? ': routes come from the routes module (--routes), whatever the engine' : '';
    this.notice(start, `core statement ${start.value} ${quoteShort(arg.value)} ignored${why}`);
  }

  // ---- values ----

  private value(module: string, param: string): Value {
    const tok = this.next();
    if (tok.kind === 'int') return { kind: 'int', value: tok.value };
    if (tok.kind === 'string') {
      const parts = [tok.value];
      // Adjacent strings are one value, so a long value can be split over lines.
      while (this.peek().kind === 'string') parts.push((this.next() as { value: string }).value);
      return { kind: 'string', value: parts.join('') };
    }
    const call = `modparam(${quoteShort(module)}, ${quoteShort(param)}, ${tok.kind === 'word' ? tok.value.slice(0, 40) : '...'})`;
    if (tok.kind === 'word') {
      throw this.error(
        tok,
        `${call}: ${tok.value.slice(0, 40)} is not a value; a value is a string in double quotes (e.g. "100ms") or an integer`,
        tok.value,
      );
    }
    throw this.error(
      tok,
      `${call}: expected a value (a string in double quotes or an integer), found ${describe(tok)}`,
    );
  }

  private expectString(what: string): Token & { kind: 'string' } {
    const tok = this.next();
    if (tok.kind !== 'string') {
      throw this.error(tok, `expected ${what} as a string in double quotes, found ${describe(tok)}`);
    }
    return tok;
  }

  private expectPunct(p: string, where: string): void {
    const tok = this.next();
    if (!this.isPunct(tok, p)) throw this.error(tok, `expected "${p}" ${where}, found ${describe(tok)}`);
  }

  private optionalSemicolon(): void {
    if (this.isPunct(this.peek(), ';')) this.next();
  }

  private isPunct(tok: Token, p: string): boolean {
    return tok.kind === 'punct' && tok.value === p;
  }

  private peek(): Token {
    return this.lexer.peek();
  }

  private next(): Token {
    return this.lexer.next();
  }

  // ---- reporting ----

  private notice(at: Token, text: string): void {
    this.notices.push(`${this.file}:${at.line}: ${text}`);
  }

  private error(at: Token, reason: string, value?: unknown): KamailioCfgError {
    return new KamailioCfgError(this.file, at.line, at.col, reason, value);
  }
}

function isIntegerText(text: string): boolean {
  const t = text.trim();
  let i = t.startsWith('-') ? 1 : 0;
  if (i >= t.length || t.length > 20) return false;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A name or text from the file, quoted and cut for a message (as every config message shows a value). */
const quoteShort: (text: string) => string = describeValue;

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'the end of the file';
    case 'string':
      return quoteShort(tok.value);
    case 'int':
      return tok.text.slice(0, 40);
    case 'word':
      return tok.value.slice(0, 80);
    case 'punct':
      return `"${tok.value}"`;
  }
}
