/**
 * Kamailio-style config files: the `modparam("ptimer", "PARAM", VALUE)` lines of a
 * kamailio.cfg, turned into a PTimerConfig (the routes come from a separate module).
 *
 * What is read:
 * - `modparam("ptimer", "PARAM", VALUE)`, where VALUE is a string in double (or single)
 *   quotes, adjacent strings joined (so a long value may be split over lines), or a bare
 *   integer. The whole statement may span lines; a trailing `;` is allowed.
 * - Comments: `#` and `//` to the end of the line, and `/* ... *\/` blocks.
 *
 * What is skipped, with one notice each: `loadmodule`/`loadpath` lines, other modules'
 * `modparam` lines, global parameters (`children=4`), route blocks (`route[X] { ... }`,
 * `request_route { ... }`, ...), `include_file`/`import_file` (not followed), and
 * preprocessor directives (`#!define`, `#!ifdef`, ...; not evaluated).
 *
 * What is an error, naming file, line and column: anything else, a bare word where a
 * value belongs (`100ms`, `10ous`: strings go in quotes), an unknown ptimer parameter,
 * an unclosed string or comment, and a second start/loop/end route for one timer (the
 * reference's own examples write "loop" twice where the first means "start").
 *
 * Validation of the values themselves (intervals, types, counts) is resolveConfig's job.
 */
import type { PTimerConfig } from './types.js';
import { ConfigError } from './errors.js';
import { CONFIG_KEYS } from './resolve.js';

export interface KamailioCfgResult {
  config: PTimerConfig;
  /** One line per thing that was read but ignored, e.g. `kamailio.cfg:2: loadmodule "mqueue.so" ignored`. */
  notices: string[];
}

/** A Kamailio-style file that cannot be read. A ConfigError, so callers can catch both alike. */
export class KamailioCfgError extends ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    value: unknown = undefined,
  ) {
    super(`${file}:${line}`, value, reason);
    this.name = 'KamailioCfgError';
    this.message = `${file}:${line}:${column}: ${reason}`;
  }
}

/** The ptimer parameters a Kamailio-style file may set: the same as a config module's. */
export const PTIMER_PARAMS = CONFIG_KEYS;
type PTimerParam = (typeof PTIMER_PARAMS)[number];
const REPEATABLE = new Set<PTimerParam>(['timer', 'start', 'loop', 'end']);
const ROUTE_PARAMS = new Set<PTimerParam>(['start', 'loop', 'end']);

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
/** First-line markers of a kamailio.cfg that say nothing about its content. */
const HEADER_DIRECTIVES = new Set(['KAMAILIO', 'SER', 'OPENSER', 'MAXCOMPAT', 'ALL']);

type Token =
  | { kind: 'string'; value: string; line: number; col: number }
  | { kind: 'int'; value: number; text: string; line: number; col: number }
  | { kind: 'word'; value: string; line: number; col: number }
  | { kind: 'punct'; value: string; line: number; col: number }
  | { kind: 'eof'; value: ''; line: number; col: number };

type Value = { kind: 'string'; value: string } | { kind: 'int'; value: number };

export function parseKamailioCfg(text: string, file = 'kamailio.cfg'): KamailioCfgResult {
  return new Parser(text, file).parse();
}

class Parser {
  private pos = 0;
  private line = 1;
  private col = 1;
  private peeked: Token | null = null;
  private readonly notices: string[] = [];
  private readonly config: PTimerConfig = {};
  /** Line of the last assignment of each single-valued parameter. */
  private readonly setOn = new Map<string, number>();
  /** `loop:TIMER` -> where the first such route was given. */
  private readonly routesSeen = new Map<string, { line: number; route: string }>();
  /** A second route for one timer: reported after the whole file has parsed, so syntax errors come first. */
  private secondRoute: KamailioCfgError | null = null;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1; // byte order mark
  }

  parse(): KamailioCfgResult {
    for (;;) {
      const tok = this.next();
      if (tok.kind === 'eof') break;
      if (tok.kind === 'punct' && tok.value === ';') continue; // stray separators are harmless
      if (tok.kind !== 'word') {
        throw this.error(tok, `unexpected ${describe(tok)}; expected modparam(...), loadmodule "...", a global parameter or a route block`);
      }
      const word = tok.value;
      if (word === 'modparam' || word === 'modparamx') this.modparam(tok);
      else if (word === 'loadmodule' || word === 'loadmodulex' || word === 'loadpath' || word === 'mpath') this.loadStatement(tok);
      else if (word === 'include_file' || word === 'import_file') this.includeStatement(tok);
      else if (ROUTE_BLOCKS.has(word)) this.skipRouteBlock(tok);
      else if (this.peek().kind === 'punct' && this.peek().value === '=') this.skipGlobalParam(tok);
      else {
        throw this.error(tok, `unexpected ${describe(tok)}; expected modparam(...), loadmodule "...", a global parameter (name=value) or a route block`);
      }
    }
    if (this.secondRoute) throw this.secondRoute;
    return { config: this.config, notices: this.notices };
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

    if (module.value !== 'ptimer') {
      this.notice(start, `modparam for module "${module.value}" ignored`);
      return;
    }
    this.applyPtimerParam(param, valueTok, value);
  }

  private applyPtimerParam(paramTok: Token & { kind: 'string' }, valueTok: Token, value: Value): void {
    const name = paramTok.value;
    if (!(PTIMER_PARAMS as readonly string[]).includes(name)) {
      throw this.error(
        paramTok,
        `unknown ptimer parameter "${name}"; the parameters are ${PTIMER_PARAMS.join(', ')}`,
      );
    }
    const param = name as PTimerParam;
    const config = this.config as Record<string, unknown>;

    if (REPEATABLE.has(param)) {
      if (value.kind !== 'string') {
        throw this.error(valueTok, `modparam("ptimer", "${param}", ...) takes a string in double quotes, not the integer ${value.value}`);
      }
      if (ROUTE_PARAMS.has(param)) this.checkSecondRoute(param, valueTok, value.value);
      const list = (config[param] ??= []) as unknown[];
      list.push(value.value);
      return;
    }

    const previous = this.setOn.get(param);
    if (previous !== undefined) {
      this.notice(valueTok, `${param} set again (first set on line ${previous}); the last value counts`);
    }
    this.setOn.set(param, valueTok.line);
    if (param === 'default_type' || param === 'default_nworkers') {
      // Integer parameters; a quoted integer is taken as one (as Kamailio does).
      config[param] = value.kind === 'string' && /^\s*-?\d+\s*$/.test(value.value) ? Number(value.value) : value.value;
    } else {
      config[param] = value.value;
    }
  }

  /** A timer has one start, one loop and one end route; a second one is the reference's typo, not an override. */
  private checkSecondRoute(kind: PTimerParam, at: Token, text: string): void {
    const timer = /(?:^|;)\s*timer\s*=\s*([^;]*?)\s*(?:;|$)/.exec(text)?.[1];
    const route = /(?:^|;)\s*route\s*=\s*([^;]*?)\s*(?:;|$)/.exec(text)?.[1] ?? '';
    if (!timer) return; // malformed: resolveConfig explains what is missing
    const key = `${kind}:${timer}`;
    const first = this.routesSeen.get(key);
    if (first) {
      const hint =
        kind === 'loop'
          ? `; if the route on line ${first.line} is meant to run once when the worker starts, write modparam("ptimer", "start", ...) there`
          : '';
      this.secondRoute ??= this.error(
        at,
        `second ${kind} route for timer "${timer}" ("${route}"); the first is "${first.route}" on line ${first.line}, and a timer has one ${kind} route${hint}`,
      );
      return;
    }
    this.routesSeen.set(key, { line: at.line, route });
  }

  private loadStatement(start: Token & { kind: 'word' }): void {
    let what = '';
    const tok = this.peek();
    if (tok.kind === 'punct' && tok.value === '=') {
      this.next(); // mpath="..."
    }
    const paren = this.peek().kind === 'punct' && this.peek().value === '(';
    if (paren) this.next();
    what = this.expectString(`the ${start.value} argument`).value;
    if (paren) this.expectPunct(')', `after the ${start.value} argument`);
    this.optionalSemicolon();
    this.notice(start, `${start.value} "${what}" ignored`);
  }

  private includeStatement(start: Token & { kind: 'word' }): void {
    const what = this.expectString(`the ${start.value} file name`).value;
    this.optionalSemicolon();
    this.notice(start, `${start.value} "${what}" not followed: put the ptimer modparam lines in this file`);
  }

  /** `route[NAME] { ... }`, `request_route { ... }`: skipped by brace matching. */
  private skipRouteBlock(start: Token & { kind: 'word' }): void {
    let label = start.value;
    let tok = this.next();
    if (tok.kind === 'punct' && tok.value === '[') {
      const parts: string[] = [];
      for (tok = this.next(); !(tok.kind === 'punct' && tok.value === ']'); tok = this.next()) {
        if (tok.kind === 'eof') throw this.error(start, `${start.value}[ is not closed with ]`);
        parts.push(String(tok.kind === 'int' ? tok.text : tok.value));
      }
      label += `[${parts.join('')}]`;
      tok = this.next();
    }
    if (!(tok.kind === 'punct' && tok.value === '{')) {
      throw this.error(tok, `expected { to open the ${label} block, found ${describe(tok)}`);
    }
    this.skipBalancedBraces(start, label);
    this.notice(start, `${label} block ignored: routes come from the routes module (--routes)`);
  }

  private skipGlobalParam(start: Token & { kind: 'word' }): void {
    this.next(); // '='
    // The value runs to the end of the line (listen=udp:1.2.3.4:5060 advertise ...), or to a ';'.
    this.skipRestOfLine();
    this.notice(start, `global parameter ${start.value} ignored`);
  }

  // ---- values ----

  private value(module: string, param: string): Value {
    const tok = this.next();
    if (tok.kind === 'int') return { kind: 'int', value: tok.value };
    if (tok.kind === 'string') {
      let value = tok.value;
      // Adjacent strings are one value, so a long value can be split over lines.
      while (this.peek().kind === 'string') value += (this.next() as { value: string }).value;
      return { kind: 'string', value };
    }
    if (tok.kind === 'word') {
      throw this.error(
        tok,
        `modparam("${module}", "${param}", ${tok.value}): ${tok.value} is not a value; a value is a string in double quotes (e.g. "100ms") or an integer`,
        tok.value,
      );
    }
    throw this.error(tok, `modparam("${module}", "${param}", ...): expected a value (a string in double quotes or an integer), found ${describe(tok)}`);
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
    if (!(tok.kind === 'punct' && tok.value === p)) {
      throw this.error(tok, `expected "${p}" ${where}, found ${describe(tok)}`);
    }
  }

  private optionalSemicolon(): void {
    const tok = this.peek();
    if (tok.kind === 'punct' && tok.value === ';') this.next();
  }

  // ---- scanner ----

  private peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  private next(): Token {
    const tok = this.peek();
    this.peeked = null;
    return tok;
  }

  private ch(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private advance(): string {
    const c = this.text[this.pos++] ?? '';
    if (c === '\n') {
      this.line++;
      this.col = 1;
    } else {
      this.col++;
    }
    return c;
  }

  private skipTrivia(): void {
    for (;;) {
      const c = this.ch();
      if (c === '') return;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v') {
        this.advance();
      } else if (c === '#') {
        if (this.ch(1) === '!') this.directive('#!');
        else this.skipToEndOfLine();
      } else if (c === '!' && this.ch(1) === '!') {
        this.directive('!!');
      } else if (c === '/' && this.ch(1) === '/') {
        this.skipToEndOfLine();
      } else if (c === '/' && this.ch(1) === '*') {
        const line = this.line;
        const col = this.col;
        this.advance();
        this.advance();
        while (!(this.ch() === '*' && this.ch(1) === '/')) {
          if (this.ch() === '') throw new KamailioCfgError(this.file, line, col, 'comment /* is not closed with */');
          this.advance();
        }
        this.advance();
        this.advance();
      } else {
        return;
      }
    }
  }

  private directive(prefix: string): void {
    const line = this.line;
    const lineStart = this.pos;
    this.skipToEndOfLine();
    const body = this.text.slice(lineStart + prefix.length, this.pos).trim();
    const name = /^[A-Za-z_]+/.exec(body)?.[0] ?? '';
    if (HEADER_DIRECTIVES.has(name.toUpperCase())) return;
    this.notices.push(`${this.file}:${line}: preprocessor directive ${prefix}${body} ignored (not evaluated: every modparam line counts)`);
  }

  private skipToEndOfLine(): void {
    while (this.ch() !== '' && this.ch() !== '\n') this.advance();
  }

  /** For a global parameter's value: up to the end of the line or a ';', stepping over strings. */
  private skipRestOfLine(): void {
    this.peeked = null;
    while (this.ch() !== '' && this.ch() !== '\n' && this.ch() !== ';') {
      if (this.ch() === '"' || this.ch() === "'") this.scanString();
      else if (this.ch() === '#' || (this.ch() === '/' && this.ch(1) === '/')) this.skipToEndOfLine();
      else this.advance();
    }
    if (this.ch() === ';') this.advance();
  }

  /** After the opening `{`: to its matching `}`, stepping over strings and comments. */
  private skipBalancedBraces(start: Token, label: string): void {
    if (this.peeked) throw new Error('internal: skipBalancedBraces with a peeked token');
    let depth = 1;
    while (depth > 0) {
      this.skipTrivia();
      const c = this.ch();
      if (c === '') throw this.error(start, `the ${label} block is not closed: no matching }`);
      if (c === '"' || c === "'") this.scanString();
      else {
        if (c === '{') depth++;
        else if (c === '}') depth--;
        this.advance();
      }
    }
  }

  private scan(): Token {
    this.skipTrivia();
    const line = this.line;
    const col = this.col;
    const c = this.ch();
    if (c === '') return { kind: 'eof', value: '', line, col };
    if (c === '"' || c === "'") return { kind: 'string', value: this.scanString(), line, col };
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(this.ch(1)))) {
      const start = this.pos;
      this.advance();
      while (/[0-9]/.test(this.ch())) this.advance();
      if (/[A-Za-z_.]/.test(this.ch())) {
        // `100ms`, `10ous`: a bare word that starts with digits.
        while (/[A-Za-z0-9_.]/.test(this.ch())) this.advance();
        return { kind: 'word', value: this.text.slice(start, this.pos), line, col };
      }
      const text = this.text.slice(start, this.pos);
      return { kind: 'int', value: Number(text), text, line, col };
    }
    if (/[A-Za-z_$]/.test(c)) {
      const start = this.pos;
      while (/[A-Za-z0-9_.$]/.test(this.ch())) this.advance();
      return { kind: 'word', value: this.text.slice(start, this.pos), line, col };
    }
    this.advance();
    return { kind: 'punct', value: c, line, col };
  }

  /** A quoted string, on one line; returns its value with escapes applied. */
  private scanString(): string {
    const line = this.line;
    const col = this.col;
    const quote = this.advance();
    let out = '';
    for (;;) {
      const c = this.ch();
      if (c === '' || c === '\n' || c === '\r') {
        throw new KamailioCfgError(
          this.file,
          line,
          col,
          `string opened with ${quote} is not closed on the same line (to split a long value, close it and open a new string on the next line)`,
        );
      }
      this.advance();
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.advance();
        if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else if (e === 'r') out += '\r';
        else if (e === '\\' || e === '"' || e === "'") out += e;
        else out += `\\${e}`;
      } else {
        out += c;
      }
    }
  }

  // ---- reporting ----

  private notice(at: Token, text: string): void {
    this.notices.push(`${this.file}:${at.line}: ${text}`);
  }

  private error(at: Token, reason: string, value?: unknown): KamailioCfgError {
    return new KamailioCfgError(this.file, at.line, at.col, reason, value);
  }
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'the end of the file';
    case 'string':
      return JSON.stringify(tok.value);
    case 'int':
      return tok.text;
    case 'word':
      return tok.value;
    case 'punct':
      return `"${tok.value}"`;
  }
}
