/**
 * Defines given from outside a Kamailio-style file: `ptimer run|check -D NAME[=VALUE]`,
 * as `kamailio -A NAME[=VALUE]` gives them (Kamailio's own -D is about daemonizing).
 * Before the file is read they are defined, so `#!ifdef NAME` in the file is taken, and
 * `#!define NAME` there is an error, as in Kamailio (use `#!trydef` for a default that
 * -D may override). A VALUE is lexed where the name is used, like a #!define's value: to
 * give a string, quote it (`-D 'IV="10ms"'`); `NAME=` (empty) is NAME without a value.
 */
import { ConfigError } from './errors.js';
import { MAX_DEFINES } from './kamailio-lexer.js';

const DEFINE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_DEFINE_NAME_CHARS = 256;
const MAX_DEFINE_VALUE_CHARS = 65_536;
const EXPECTED =
  'expected NAME or NAME=VALUE, NAME of letters, digits and "_" not starting with a digit (e.g. -D WITH_FAST or -D \'IV="10ms"\')';

export interface DefineFlag {
  name: string;
  /** The value text, or true for a name defined without one. */
  value: string | true;
}

/** One `-D` argument: `NAME` or `NAME=VALUE`. Throws ConfigError naming `-D`. */
export function parseDefineFlag(text: string): DefineFlag {
  if (typeof text !== 'string') throw new ConfigError('-D', text, EXPECTED);
  const equals = text.indexOf('=');
  const name = equals < 0 ? text : text.slice(0, equals);
  const value = equals < 0 ? '' : text.slice(equals + 1);
  if (name.length > MAX_DEFINE_NAME_CHARS || !DEFINE_NAME.test(name)) throw new ConfigError('-D', text, EXPECTED);
  if (value.length > MAX_DEFINE_VALUE_CHARS)
    throw new ConfigError('-D', text, `a value of at most ${MAX_DEFINE_VALUE_CHARS} characters`);
  if (value.includes('\n') || value.includes('\r'))
    throw new ConfigError('-D', text, `${EXPECTED}; a value is one line`);
  return { name, value: value === '' ? true : value };
}

/** Several `-D` arguments, as the `defines` option of parseKamailioCfg takes them. A name given twice is an error (as with kamailio -A). */
export function definesFromFlags(texts: readonly string[]): Record<string, string | true> {
  const defines: Record<string, string | true> = Object.create(null) as Record<string, string | true>;
  for (const text of texts) {
    const { name, value } = parseDefineFlag(text);
    if (Object.hasOwn(defines, name))
      throw new ConfigError('-D', text, `${name} is defined twice; give each name once`);
    defines[name] = value;
  }
  checkDefines(defines);
  return defines;
}

/** The `defines` option: names and values as -D gives them. Throws ConfigError naming `defines`. */
export function checkDefines(defines: unknown): Record<string, string | true> {
  if (defines === undefined) return {};
  if (defines === null || typeof defines !== 'object' || Array.isArray(defines)) {
    throw new ConfigError('defines', defines, 'expected an object { NAME: true | "VALUE" }');
  }
  const entries = Object.entries(defines as Record<string, unknown>);
  if (entries.length > MAX_DEFINES)
    throw new ConfigError('defines', `${entries.length} names`, `at most ${MAX_DEFINES} defines (as in Kamailio)`);
  const out: Record<string, string | true> = {};
  for (const [name, value] of entries) {
    if (name.length > MAX_DEFINE_NAME_CHARS || !DEFINE_NAME.test(name)) {
      throw new ConfigError(`defines`, name, 'a name of letters, digits and "_", not starting with a digit');
    }
    if (
      value !== true &&
      (typeof value !== 'string' || value.length > MAX_DEFINE_VALUE_CHARS || /[\r\n]/.test(value))
    ) {
      throw new ConfigError(
        `defines.${name}`,
        value,
        `true (defined without a value) or a one-line string of at most ${MAX_DEFINE_VALUE_CHARS} characters`,
      );
    }
    out[name] = value;
  }
  return out;
}
