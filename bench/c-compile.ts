/**
 * The bench's C programs (bench/c/*.c), and the examples' measuring tools, compiled with `cc -O2` into a temp dir the first time
 * one is needed, keyed by the source's hash so that an edit recompiles.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, runProgram } from './external-program.js';

/** The compiler found on PATH, or null. */
export function findCompiler(): string | null {
  return findOnPath('cc') ?? findOnPath('gcc') ?? findOnPath('clang');
}

/** The binary of bench/c/NAME.c, compiled with `cc` if it is not yet. */
export async function compiledC(cc: string, name: string, flags: string[] = []): Promise<string> {
  return compiledSource(cc, fileURLToPath(new URL(`./c/${name}.c`, import.meta.url)), flags);
}

/** The binary of the C file at `source` (an absolute path), compiled with `cc` if it is not yet. */
export async function compiledSource(cc: string, source: string, flags: string[] = []): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `ptimer-bench-c-${hash}`);
  const binary = join(dir, basename(source, '.c'));
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    await runProgram(cc, ['-O2', ...flags, '-o', binary, source], 60_000);
  }
  return binary;
}
