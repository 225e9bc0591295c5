/**
 * Which modules a modparam's module name names. Kamailio (src/core/modparam.c,
 * set_mod_param_regex) compiles the name as a POSIX extended regular expression,
 * anchored as `^(NAME)$` and case-insensitive, and applies the parameter to every loaded
 * module it matches: `"ptimer|tm"` names ptimer and tm, `"PTIMER"` names ptimer.
 *
 * The modules this reader knows are ptimer, mqueue and htable (the others' lines are
 * skipped). The expression is only ever matched against those three short names, so its
 * cost is bounded whatever it holds; its length is bounded too.
 */
export const KNOWN_MODULES = ['ptimer', 'mqueue', 'htable'] as const;
export type KnownModule = (typeof KNOWN_MODULES)[number];

export const MAX_MODULE_PATTERN_CHARS = 256;

/** POSIX bracket classes, as JavaScript ranges. */
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
};

const PLAIN = /^[A-Za-z0-9_]+$/;

/** The known modules `pattern` names, or a reason it is not a valid expression. */
export function matchModules(pattern: string): { modules: KnownModule[]; regex: boolean } | { error: string } {
  if (PLAIN.test(pattern)) {
    const lower = pattern.toLowerCase();
    return { modules: KNOWN_MODULES.filter((m) => m === lower), regex: false };
  }
  if (pattern.length > MAX_MODULE_PATTERN_CHARS) {
    return {
      error: `a module name of at most ${MAX_MODULE_PATTERN_CHARS} characters (it is a regular expression, as in Kamailio)`,
    };
  }
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith('[:', i)) {
      const end = pattern.indexOf(':]', i + 2);
      const cls = end < 0 ? undefined : POSIX_CLASSES[pattern.slice(i + 2, end)];
      if (cls !== undefined) {
        source += cls;
        i = end + 1;
        continue;
      }
    }
    source += pattern[i];
  }
  let regex: RegExp;
  try {
    regex = new RegExp(`^(${source})$`, 'i');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { error: `the module name is a regular expression (as in Kamailio), and this one does not compile: ${why}` };
  }
  return { modules: KNOWN_MODULES.filter((m) => regex.test(m)), regex: true };
}
