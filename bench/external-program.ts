/** Finding and running the programs outside Node.js that the bench compares with. */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The program's full path if it is on PATH, else null. */
export function findOnPath(program: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface ProgramOutput {
  stdout: string;
  stderr: string;
  wallNs: number;
}

/**
 * Runs a program to its end, asynchronously (the busy scenario's load keeps running on this
 * thread meanwhile). Rejects with the program's stderr when it fails.
 */
export function runProgram(file: string, args: string[], timeoutMs: number): Promise<ProgramOutput> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const wallNs = Number(process.hrtime.bigint() - started);
      if (error) {
        const detail = stderr.trim().split('\n').slice(-3).join(' / ');
        reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}${detail ? `: ${detail}` : ''}`));
      } else resolve({ stdout, stderr, wallNs });
    });
  });
}
