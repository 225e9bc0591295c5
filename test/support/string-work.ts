/**
 * The work a piece of string-scanning code does, counted instead of timed: a unit test that
 * asserts "linear time" with a wall-clock bound passes or fails with the machine's load; counted
 * work does not. While `fn` runs, String.prototype's scanning methods are wrapped and charged:
 * charCodeAt/codePointAt/at 1 per call, indexOf/includes/startsWith the characters they may
 * scan, slice/substring/trim the characters they copy, replace/RegExp#test/#exec the length of
 * the string they run over. A quadratic loop built of any of these shows as work growing with
 * the square of the input.
 */
type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

export function countStringWork<T>(fn: () => T): { result: T; work: number } {
  let work = 0;
  const saved: Array<[object, string, AnyFn]> = [];
  const wrap = (proto: object, name: string, cost: (self: string, args: unknown[], out: unknown) => number) => {
    const original = (proto as Record<string, AnyFn>)[name]!;
    saved.push([proto, name, original]);
    (proto as Record<string, AnyFn>)[name] = function (this: unknown, ...args: unknown[]) {
      const out = original.apply(this, args);
      work += cost(String(this), args, out);
      return out;
    };
  };
  const one = () => 1;
  const scanned = (self: string, args: unknown[]) =>
    Math.max(1, self.length - (typeof args[1] === 'number' ? args[1] : 0));
  const copied = (_self: string, _args: unknown[], out: unknown) => 1 + (typeof out === 'string' ? out.length : 0);
  const whole = (self: string) => 1 + self.length;
  for (const name of ['charCodeAt', 'codePointAt', 'at']) wrap(String.prototype, name, one);
  for (const name of ['indexOf', 'lastIndexOf', 'includes', 'startsWith', 'endsWith'])
    wrap(String.prototype, name, scanned);
  for (const name of ['slice', 'substring', 'trim', 'trimStart', 'trimEnd']) wrap(String.prototype, name, copied);
  for (const name of ['replace', 'replaceAll', 'split', 'match']) wrap(String.prototype, name, whole);
  wrap(RegExp.prototype, 'test', (_self, args) => 1 + String(args[0]).length);
  wrap(RegExp.prototype, 'exec', (_self, args) => 1 + String(args[0]).length);
  try {
    const result = fn();
    return { result, work };
  } finally {
    for (const [proto, name, original] of saved.reverse()) (proto as Record<string, AnyFn>)[name] = original;
  }
}
