/**
 * The `--seconds N` (and `--help`) of the examples' command lines, read and checked the same way
 * in each: an integer within the example's bounds, or the usage line / an error naming what is
 * allowed (exit 0 / exit 2).
 */
import { parseArgs } from 'node:util';

export function secondsArg(o: { usage: string; defaultSeconds: number; min: number; max: number }): number {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: String(o.defaultSeconds) }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(o.usage);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < o.min || seconds > o.max) {
    console.error(`--seconds must be an integer from ${o.min} to ${o.max}, got ${JSON.stringify(values.seconds)}`);
    process.exit(2);
  }
  return seconds;
}
