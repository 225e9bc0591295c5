/**
 * The tokens of a Kamailio-style file, with its preprocessor evaluated as Kamailio's
 * own lexer (src/core/cfg.lex) evaluates it.
 *
 * How: the text's line ends (LF, CRLF, CR) are made LF once, up front. The lexer walks
 * the text once, left to right, with charCode tests only (no regex over the text, so no
 * backtracking: time is linear in the file's length). Between tokens it steps over
 * whitespace, comments (`#` and `//` to the end of the line, `/* *\/` nested, as Kamailio
 * nests them) and preprocessor directives (`#!` or `!!`):
 * - `#!define NAME [value]` (`def`), `#!trydef` (`trydefine`: only if not yet defined),
 *   `#!redefine` (`redef`), `#!undef` (`undefine`), `#!tryundef`. A value runs to the end of
 *   the line; a `\` at the end of a line continues it. Defining a name twice with
 *   `#!define` is an error, as in Kamailio (`-D NAME` then `#!define NAME` too: use `#!trydef`).
 * - `#!ifdef NAME`, `#!ifndef NAME`, `#!else`, `#!endif`, nested (at most 512 deep). In a
 *   branch not taken, only these directives are looked for, anywhere, as Kamailio does.
 * - `#!subst`, `#!substdef`, `#!substdefs`, `#!defenv` and kin, `#!include_file`: skipped
 *   with a notice (not evaluated). `#!ifexp`, `#!defexp`: an error (expressions are not
 *   evaluated, and guessing a branch is what made a timer run at the wrong interval).
 * - `#!KAMAILIO` and the other header lines are skipped; any other `#!word` is a comment
 *   (as in Kamailio), with a notice.
 * A word (Kamailio's ID) that names a define is replaced by the define's value, lexed as
 * tokens at the word's place; expansion is bounded in depth and in total size. Strings
 * in quotes are never expanded (Kamailio needs #!substdef for that).
 */
import { KamailioCfgError } from './kamailio-error.js';

export type Token =
  | { kind: 'string'; value: string; line: number; col: number; depth: number }
  | { kind: 'int'; value: number; text: string; line: number; col: number; depth: number }
  | { kind: 'word'; value: string; line: number; col: number; depth: number }
  | { kind: 'punct'; value: string; line: number; col: number; depth: number }
  | { kind: 'eof'; value: ''; line: number; col: number; depth: number };

/** Kamailio's limits (cfg.lex MAX_DEFINES, MAX_IFDEFS). */
export const MAX_DEFINES = 512;
export const MAX_IFDEF_DEPTH = 512;
/** A define expanding into defines: at most this deep (Kamailio has no guard and loops for ever). */
export const MAX_EXPANSION_DEPTH = 16;
/** Characters lexed from define values in one file, all expansions together. */
export const MAX_EXPANSION_CHARS = 4 * 1024 * 1024;

const HEADER_DIRECTIVES = new Set(['KAMAILIO', 'SER', 'OPENSER', 'MAXCOMPAT', 'ALL']);
const DEFINE_KINDS: Record<string, 'define' | 'trydef' | 'redef'> = {
  define: 'define',
  def: 'define',
  trydefine: 'trydef',
  trydef: 'trydef',
  redefine: 'redef',
  redef: 'redef',
};
const UNDEF_KINDS: Record<string, 'undef' | 'tryundef'> = {
  undefine: 'undef',
  undef: 'undef',
  tryundefine: 'tryundef',
  tryundef: 'tryundef',
};
const SKIPPED_DIRECTIVES = new Set([
  'subst',
  'substdef',
  'substdefs',
  'defenv',
  'defenvs',
  'trydefenv',
  'trydefenvs',
  'include_file',
  'import_file',
]);
const UNSUPPORTED_DIRECTIVES = new Set(['ifexp', 'defexp', 'defexps']);

const NL = 10;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const BANG = 33;
const SLASH = 47;
const STAR = 42;
const QUOTE = 34;
const TICK = 39;
const BACKSLASH = 92;
const MINUS = 45;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === NL || c === 13 || c === 12 || c === 11 || c === 8;
}
/** Kamailio's EAT_ABLE: space, tab, \b, \r (here \r is gone already). */
function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === 8 || c === 12 || c === 11;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || isDigit(c);
}

/** LF, CRLF and CR line ends, all as LF; a byte order mark dropped. Linear. */
export function normalizeLineEnds(text: string): string {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const body = start === 0 ? text : text.slice(start);
  return body.indexOf('\r') < 0 ? body : body.replace(/\r\n?/g, '\n');
}

/** The preprocessor's state, shared by the file's lexer and the lexers of define values. */
export class Preprocessor {
  /** name -> value text (null: defined without a value). */
  readonly defines = new Map<string, string | null>();
  /** One entry per open #!ifdef/#!ifndef: whether its current branch is taken. */
  readonly branches: Array<{ taken: boolean; line: number; col: number; directive: string }> = [];
  expandedChars = 0;

  constructor(
    readonly file: string,
    readonly notices: string[],
    predefined: Record<string, string | true>,
  ) {
    for (const [name, value] of Object.entries(predefined)) this.defines.set(name, value === true ? null : value);
  }

  /** Every open branch is taken. */
  active(): boolean {
    for (const branch of this.branches) if (!branch.taken) return false;
    return true;
  }
}

export class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  /** Tokens of define expansions, waiting to be read before the text goes on: innermost expansion last. */
  private readonly frames: Array<{ tokens: Token[]; next: number }> = [];
  private peeked: Token | null = null;

  constructor(
    private readonly text: string,
    private readonly pp: Preprocessor,
    /** A define value's lexer: no directives; every token at the expanded word's place and depth. */
    private readonly expansionOf: Token | null = null,
  ) {}

  peek(): Token {
    this.peeked ??= this.nextExpanded();
    return this.peeked;
  }

  next(): Token {
    const tok = this.peek();
    this.peeked = null;
    return tok;
  }

  /** Where the text stands (for errors about what the lexer skips). */
  here(): { line: number; col: number } {
    return { line: this.line, col: this.col };
  }

  // ---- define expansion ----

  private nextExpanded(): Token {
    for (;;) {
      const tok = this.fromFrames() ?? this.scan();
      if (tok.kind !== 'word' || !this.pp.defines.has(tok.value)) return tok;
      this.expand(tok);
    }
  }

  private fromFrames(): Token | undefined {
    for (let frame = this.frames.at(-1); frame; frame = this.frames.at(-1)) {
      if (frame.next < frame.tokens.length) return frame.tokens[frame.next++];
      this.frames.pop();
    }
    return undefined;
  }

  private expand(word: Token & { kind: 'word' }): void {
    const value = this.pp.defines.get(word.value) ?? null;
    if (value === null || value === '') return; // a define without a value expands to nothing, as in Kamailio
    if (word.depth >= MAX_EXPANSION_DEPTH) {
      throw this.errorAt(
        word,
        `define ${word.value} expands into defines more than ${MAX_EXPANSION_DEPTH} levels deep (does it expand into itself?)`,
      );
    }
    this.pp.expandedChars += value.length;
    if (this.pp.expandedChars > MAX_EXPANSION_CHARS) {
      throw this.errorAt(
        word,
        `defines expand to more than ${MAX_EXPANSION_CHARS} characters in all; is a define used in a loop of defines?`,
      );
    }
    const sub = new Lexer(value, this.pp, word);
    const tokens: Token[] = [];
    for (let tok = sub.scan(); tok.kind !== 'eof'; tok = sub.scan()) tokens.push(tok);
    if (tokens.length > 0) this.frames.push({ tokens, next: 0 });
  }

  /**
   * Drops the tokens still waiting from an expansion (the caller is skipping the rest of a
   * statement) and returns how `{` and `}` among them change the brace depth.
   */
  dropQueued(): number {
    let depth = 0;
    const count = (tok: Token): void => {
      if (tok.kind === 'punct' && tok.value === '{') depth++;
      else if (tok.kind === 'punct' && tok.value === '}') depth--;
    };
    // A peeked token from the text itself (not an expansion) was already stepped over: it counts too.
    if (this.peeked) count(this.peeked);
    for (const frame of this.frames) for (let i = frame.next; i < frame.tokens.length; i++) count(frame.tokens[i]!);
    this.peeked = null;
    this.frames.length = 0;
    return depth;
  }

  // ---- scanning ----

  private code(offset = 0): number {
    const i = this.pos + offset;
    return i < this.text.length ? this.text.charCodeAt(i) : -1;
  }

  /** Moves to `to`, counting lines and columns on the way. */
  private moveTo(to: number): void {
    const { text } = this;
    let lastNl = -1;
    for (let i = this.pos; i < to; i++) {
      if (text.charCodeAt(i) === NL) {
        this.line++;
        lastNl = i;
      }
    }
    this.col = lastNl < 0 ? this.col + (to - this.pos) : to - lastNl;
    this.pos = to;
  }

  private scan(): Token {
    this.skipTrivia();
    const at = this.expansionOf;
    const line = at ? at.line : this.line;
    const col = at ? at.col : this.col;
    const depth = at ? at.depth + 1 : 0;
    const c = this.code();
    if (c < 0) return { kind: 'eof', value: '', line, col, depth };
    if (c === QUOTE || c === TICK) return { kind: 'string', value: this.scanString(), line, col, depth };
    const start = this.pos;
    if (isDigit(c) || (c === MINUS && isDigit(this.code(1)))) {
      let end = start + 1;
      while (isDigit(this.text.charCodeAt(end))) end++;
      if (isIdStart(this.text.charCodeAt(end)) || this.text.charCodeAt(end) === 46) {
        // `100ms`, `10ous`: a bare word that starts with digits.
        while (isIdPart(this.text.charCodeAt(end)) || this.text.charCodeAt(end) === 46) end++;
        this.moveTo(end);
        return { kind: 'word', value: this.text.slice(start, end), line, col, depth };
      }
      this.moveTo(end);
      const text = this.text.slice(start, end);
      return { kind: 'int', value: Number(text), text, line, col, depth };
    }
    if (isIdStart(c)) {
      let end = start + 1;
      while (isIdPart(this.text.charCodeAt(end))) end++;
      this.moveTo(end);
      return { kind: 'word', value: this.text.slice(start, end), line, col, depth };
    }
    this.moveTo(start + 1);
    return { kind: 'punct', value: this.text[start]!, line, col, depth };
  }

  /** Whitespace, comments and (in the file itself) directives, including branches not taken. */
  private skipTrivia(): void {
    for (;;) {
      const c = this.code();
      if (c < 0) return;
      if (isSpace(c)) {
        this.moveTo(this.pos + 1);
      } else if (
        this.expansionOf === null &&
        ((c === HASH && this.code(1) === BANG) || (c === BANG && this.code(1) === BANG))
      ) {
        this.directive();
        if (!this.pp.active()) this.skipInactive();
      } else if (c === HASH || (c === SLASH && this.code(1) === SLASH)) {
        this.skipToEndOfLine();
      } else if (c === SLASH && this.code(1) === STAR) {
        this.skipBlockComment();
      } else {
        return;
      }
    }
  }

  private skipToEndOfLine(): void {
    const nl = this.text.indexOf('\n', this.pos);
    this.moveTo(nl < 0 ? this.text.length : nl);
  }

  /** `/* ... *\/`, nested as Kamailio nests them. */
  private skipBlockComment(): void {
    const { line, col } = this;
    let nest = 0;
    let i = this.pos;
    const { text } = this;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
        nest++;
        i += 2;
      } else if (c === STAR && text.charCodeAt(i + 1) === SLASH) {
        nest--;
        i += 2;
        if (nest === 0) {
          this.moveTo(i);
          return;
        }
      } else {
        i++;
      }
    }
    throw this.error(
      line,
      col,
      'comment /* is not closed with */ (comments nest, as in Kamailio: each /* needs its */)',
    );
  }

  /**
   * A quoted string; returns its value. Double quotes take Kamailio's escapes (\n \r \t \a
   * \" \\ \xHH \ooo, and a \ at the end of a line joins the next); single quotes take none.
   * Either may span lines, as in Kamailio.
   */
  scanString(): string {
    const { line, col, text } = this;
    const quote = text.charCodeAt(this.pos);
    let i = this.pos + 1;
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= text.length) {
        this.moveTo(i);
        throw this.error(
          line,
          col,
          `string opened with ${String.fromCharCode(quote)} is not closed: it runs to the end of the file (close it with ${String.fromCharCode(quote)})`,
        );
      }
      const c = text.charCodeAt(i);
      if (c === quote) {
        out += text.slice(runStart, i);
        this.moveTo(i + 1);
        return out;
      }
      if (c === BACKSLASH && quote === QUOTE && i + 1 < text.length) {
        out += text.slice(runStart, i);
        const e = text[i + 1]!;
        i += 2;
        if (e === 'n') out += '\n';
        else if (e === 'r') out += '\r';
        else if (e === 't') out += '\t';
        else if (e === 'a') out += '\x07';
        else if (e === '"' || e === '\\') out += e;
        else if (e === '\n') out += '';
        else if (e === 'x' && isHex(text.charCodeAt(i))) {
          const len = isHex(text.charCodeAt(i + 1)) ? 2 : 1;
          out += String.fromCharCode(parseInt(text.slice(i, i + len), 16));
          i += len;
        } else if (isOctal(e.charCodeAt(0)) && isOctal(text.charCodeAt(i))) {
          const len = isOctal(text.charCodeAt(i + 1)) ? 2 : 1;
          out += String.fromCharCode(parseInt(text.slice(i - 1, i + len), 8) & 0xff);
          i += len;
        } else out += `\\${e}`;
        runStart = i;
        continue;
      }
      i++;
    }
  }

  /** For a global parameter or a core statement: the rest of the line (stepping over strings, to a `;`). */
  skipRestOfStatement(): void {
    this.dropQueued();
    for (;;) {
      const c = this.code();
      if (c < 0 || c === NL) return;
      if (c === 59) {
        this.moveTo(this.pos + 1);
        return;
      }
      if (c === QUOTE || c === TICK) this.scanString();
      else if (c === HASH || (c === SLASH && this.code(1) === SLASH)) this.skipToEndOfLine();
      else if (c === SLASH && this.code(1) === STAR) this.skipBlockComment();
      else this.moveTo(this.pos + 1);
    }
  }

  /** After an opening `{`: to its matching `}`, stepping over strings, comments and directives. */
  skipBalancedBraces(startLine: number, startCol: number, label: string): void {
    let depth = 1 + this.dropQueued();
    while (depth > 0) {
      this.skipTrivia();
      const c = this.code();
      if (c < 0) throw this.error(startLine, startCol, `the ${label} block is not closed: no matching }`);
      if (c === QUOTE || c === TICK) this.scanString();
      else {
        if (c === 123) depth++;
        else if (c === 125) depth--;
        this.moveTo(this.pos + 1);
      }
    }
  }

  // ---- directives ----

  /** At `#!` or `!!`: one directive, to the end of its line. */
  private directive(): void {
    const { line, col, text } = this;
    const prefix = text.slice(this.pos, this.pos + 2);
    let end = this.pos + 2;
    while (isIdPart(text.charCodeAt(end))) end++;
    const name = text.slice(this.pos + 2, end);
    const at = { line, col };
    if (prefix === '#!' && HEADER_DIRECTIVES.has(name)) {
      this.skipToEndOfLine();
      return;
    }
    this.moveTo(end);
    const kind = DEFINE_KINDS[name];
    if (kind) return this.define(kind, prefix + name, at);
    const undef = UNDEF_KINDS[name];
    if (undef) return this.undefine(undef, prefix + name, at);
    if (name === 'ifdef' || name === 'ifndef') return this.ifdef(name === 'ifdef', prefix + name, at);
    if (name === 'else') return this.elseDirective(prefix + name, at);
    if (name === 'endif') return this.endif(prefix + name, at);
    if (UNSUPPORTED_DIRECTIVES.has(name)) {
      throw this.error(
        line,
        col,
        `${prefix}${name} is not supported: ptimer does not evaluate preprocessor expressions; use #!ifdef/#!ifndef and #!define (or -D NAME)`,
      );
    }
    const rest = this.restOfLine();
    if (SKIPPED_DIRECTIVES.has(name)) {
      const what = name.startsWith('subst')
        ? 'not evaluated: strings are not substituted, and a name it would define stays undefined'
        : name.includes('env')
          ? 'not evaluated: the name it would define stays undefined'
          : 'not followed: put the ptimer modparam lines in this file';
      this.notice(line, `${prefix}${name}${rest ? ` ${rest}` : ''} skipped (${what})`);
      return;
    }
    if (prefix === '!!') {
      throw this.error(
        line,
        col,
        `unknown preprocessor directive ${prefix}${name}; the directives are #!define, #!trydef, #!redefine, #!undef, #!ifdef, #!ifndef, #!else, #!endif`,
      );
    }
    this.notice(line, `#!${name} is not a preprocessor directive: read as a comment, as Kamailio does`);
  }

  /** `#!define NAME [value]`: the name, then the value to the end of the line (`\` continues it). */
  private define(kind: 'define' | 'trydef' | 'redef', directive: string, at: { line: number; col: number }): void {
    const name = this.directiveName(directive, at);
    // The value: from the first non-blank character to the end of the line; `\` + newline continues it.
    while (isBlank(this.code())) this.moveTo(this.pos + 1);
    let value = '';
    for (;;) {
      const nl = this.text.indexOf('\n', this.pos);
      const end = nl < 0 ? this.text.length : nl;
      if (nl >= 0 && end > this.pos && this.text.charCodeAt(end - 1) === BACKSLASH) {
        value += this.text.slice(this.pos, end - 1);
        this.moveTo(end + 1);
        continue;
      }
      value += this.text.slice(this.pos, end);
      this.moveTo(end);
      break;
    }
    value = value.trimEnd();
    const { defines } = this.pp;
    if (defines.has(name)) {
      if (kind === 'trydef') return;
      if (kind === 'define') {
        throw this.error(
          at.line,
          at.col,
          `${directive} ${name}: ${name} is already defined (by an earlier #!define or by -D); use #!redefine to change it, or #!trydef to define it only if it is not`,
        );
      }
    } else if (defines.size >= MAX_DEFINES) {
      throw this.error(
        at.line,
        at.col,
        `${directive} ${name}: too many defines (at most ${MAX_DEFINES}, as in Kamailio)`,
      );
    }
    defines.set(name, value === '' ? null : value);
  }

  private undefine(kind: 'undef' | 'tryundef', directive: string, at: { line: number; col: number }): void {
    const name = this.directiveName(directive, at);
    this.expectEndOfDirective(`${directive} ${name}`, at);
    if (!this.pp.defines.delete(name) && kind === 'undef') {
      throw this.error(
        at.line,
        at.col,
        `${directive} ${name}: ${name} is not defined (use #!tryundef to undefine a name that may not be)`,
      );
    }
  }

  private ifdef(positive: boolean, directive: string, at: { line: number; col: number }): void {
    const name = this.directiveName(directive, at);
    this.expectEndOfDirective(`${directive} ${name}`, at);
    this.pushBranch(positive === this.pp.defines.has(name), `${directive} ${name}`, at);
  }

  private pushBranch(taken: boolean, directive: string, at: { line: number; col: number }): void {
    if (this.pp.branches.length >= MAX_IFDEF_DEPTH) {
      throw this.error(
        at.line,
        at.col,
        `${directive}: #!ifdef nested more than ${MAX_IFDEF_DEPTH} deep (as in Kamailio)`,
      );
    }
    this.pp.branches.push({ taken, line: at.line, col: at.col, directive });
  }

  private elseDirective(directive: string, at: { line: number; col: number }): void {
    this.expectEndOfDirective(directive, at);
    const top = this.pp.branches.at(-1);
    if (!top) {
      this.notice(at.line, `${directive} without #!ifdef or #!ifndef ignored (Kamailio warns about it too)`);
      return;
    }
    top.taken = !top.taken;
  }

  private endif(directive: string, at: { line: number; col: number }): void {
    this.expectEndOfDirective(directive, at);
    if (this.pp.branches.pop() === undefined) {
      this.notice(at.line, `${directive} without #!ifdef or #!ifndef ignored (Kamailio warns about it too)`);
    }
  }

  /** In a branch not taken: only #!ifdef, #!ifndef, #!ifexp, #!else and #!endif count, wherever they are. */
  private skipInactive(): void {
    const { text } = this;
    // The next "#!" and "!!" at or after pos, each searched for again only once passed: linear.
    let hash = -2;
    let bangs = -2;
    while (!this.pp.active()) {
      if (hash !== -1 && hash < this.pos) hash = text.indexOf('#!', this.pos);
      if (bangs !== -1 && bangs < this.pos) bangs = text.indexOf('!!', this.pos);
      const next = hash < 0 ? bangs : bangs < 0 ? hash : Math.min(hash, bangs);
      if (next < 0) {
        this.moveTo(text.length);
        return;
      }
      this.moveTo(next);
      let end = next + 2;
      while (isIdPart(text.charCodeAt(end))) end++;
      const name = text.slice(next + 2, end);
      const prefix = text.slice(next, next + 2);
      const at = { line: this.line, col: this.col };
      if (name === 'ifdef' || name === 'ifndef' || name === 'else' || name === 'endif') {
        this.moveTo(end);
        if (name === 'else') this.elseDirective(prefix + name, at);
        else if (name === 'endif') this.endif(prefix + name, at);
        else this.ifdef(name === 'ifdef', prefix + name, at);
      } else if (name === 'ifexp') {
        // Not evaluated, and not needed: its whole block is skipped with the branch around it.
        this.skipToEndOfLine();
        this.pushBranch(false, `${prefix}ifexp`, at);
      } else {
        this.moveTo(next + 2);
      }
    }
  }

  /** After a directive's keyword: blanks, then a name of letters, digits and `_`. */
  private directiveName(directive: string, at: { line: number; col: number }): string {
    if (!isBlank(this.code())) {
      throw this.error(
        at.line,
        at.col,
        `${directive} needs a space and then a name (letters, digits and "_", not starting with a digit)`,
      );
    }
    while (isBlank(this.code())) this.moveTo(this.pos + 1);
    const start = this.pos;
    if (!isIdStart(this.code())) {
      throw this.error(
        this.line,
        this.col,
        `${directive}: expected a name (letters, digits and "_", not starting with a digit), found ${describeRest(this.text, this.pos)}`,
      );
    }
    let end = start + 1;
    while (isIdPart(this.text.charCodeAt(end))) end++;
    const name = this.text.slice(start, end);
    this.moveTo(end);
    if (this.code() === MINUS)
      throw this.error(
        this.line,
        this.col,
        `${directive} ${name}-...: "-" is not allowed in a define name (as in Kamailio)`,
      );
    return name;
  }

  /** Only blanks may follow, then the end of the line. */
  private expectEndOfDirective(directive: string, at: { line: number; col: number }): void {
    while (isBlank(this.code())) this.moveTo(this.pos + 1);
    const c = this.code();
    if (c >= 0 && c !== NL) {
      throw this.error(
        this.line,
        this.col,
        `unexpected ${describeRest(this.text, this.pos)} after ${directive} (on line ${at.line}); a directive stands alone on its line`,
      );
    }
  }

  private restOfLine(): string {
    const start = this.pos;
    this.skipToEndOfLine();
    const rest = this.text.slice(start, this.pos).trim();
    return rest.length > 80 ? `${rest.slice(0, 80)}… (${rest.length} chars)` : rest;
  }

  /** At the end of the file: every #!ifdef closed. */
  checkClosed(): void {
    const open = this.pp.branches.at(-1);
    if (open)
      throw this.error(open.line, open.col, `${open.directive} is not closed: no #!endif before the end of the file`);
  }

  // ---- reporting ----

  private notice(line: number, text: string): void {
    this.pp.notices.push(`${this.pp.file}:${line}: ${text}`);
  }

  private error(line: number, col: number, reason: string): KamailioCfgError {
    if (this.expansionOf) return this.errorAt(this.expansionOf, `in the value of a define: ${reason}`);
    return new KamailioCfgError(this.pp.file, line, col, reason);
  }

  private errorAt(tok: Token, reason: string): KamailioCfgError {
    return new KamailioCfgError(this.pp.file, tok.line, tok.col, reason);
  }
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

/** What stands at `pos`, for a message: a few characters, or the end of the line or file. */
function describeRest(text: string, pos: number): string {
  if (pos >= text.length) return 'the end of the file';
  if (text.charCodeAt(pos) === NL) return 'the end of the line';
  const nl = text.indexOf('\n', pos);
  const piece = text.slice(pos, Math.min(nl < 0 ? text.length : nl, pos + 20));
  return JSON.stringify(piece);
}
