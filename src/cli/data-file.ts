/**
 * `ptimer run --data FILE.json`: the file's JSON becomes `ctx.data` in every route (the
 * `data` option of PTimer.fromFile / PTimer.create).
 *
 * The file is bounded before it is read (MAX_DATA_FILE_BYTES, 64 MiB: the same bound the data
 * plane puts on `data` serialized), so a wrong path such as a log file or /dev/zero fails fast
 * instead of filling memory. A parse error names the file and JSON's own message, with the
 * line and column when JSON gives a position. Every error is a CliError (exit 1, one line).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CliError } from './args.js';

/** Largest --data file, in bytes. */
export const MAX_DATA_FILE_BYTES = 64 * 2 ** 20;

/** `line L, column C` of a 0-based offset in text. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

/**
 * Reads and parses a --data file. Reads at most `limit` + 1 bytes, so a file that grows, or a
 * device or FIFO that never ends, is refused at the bound too.
 */
export function readDataFile(path: string, limit = MAX_DATA_FILE_BYTES): unknown {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new CliError(`--data ${path}: cannot read it: ${why}`);
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new CliError(`--data ${path}: is a directory; give a JSON file`);
    if (stat.isFile() && stat.size > limit) {
      throw new CliError(
        `--data ${path}: ${stat.size} bytes; at most ${limit} (${limit / 2 ** 20} MiB): pass large data through a queue or a table`,
      );
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(2 ** 20, limit + 1 - length));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > limit)
        throw new CliError(
          `--data ${path}: more than ${limit} bytes (${limit / 2 ** 20} MiB); pass large data through a queue or a table`,
        );
    }
    text = Buffer.concat(chunks, length).toString('utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--data ${path}: cannot read it: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not JSON, but editors write one
  if (text.trim() === '')
    throw new CliError(`--data ${path}: the file is empty; it must hold one JSON value (e.g. {} or [])`);
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? ` (${lineColumn(text, Number(position[1]))})` : '';
    throw new CliError(`--data ${path}: not valid JSON${where}: ${message}`);
  }
}
