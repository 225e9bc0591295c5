/** The "stress" scenario's load: `stress-ng --cpu 2` in its own process group, for the whole scenario. */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOnPath } from './external-program.js';

export function stressNgMissing(): string | null {
  return findOnPath('stress-ng') ? null : 'stress-ng is not installed (Debian package stress-ng)';
}

/** Starts the load and gives it a moment to reach full speed; the returned function ends it. */
export async function startStressLoad(): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn('stress-ng', ['--cpu', '2', '--quiet'], { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    // Its own process group: stress-ng and the workers it forked.
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', kill);
  await sleep(500);
  if (child.exitCode !== null) throw new Error(`stress-ng exited at once with code ${child.exitCode}`);
  return async () => {
    kill();
    await Promise.race([exited, sleep(5000)]);
    process.removeListener('exit', kill);
  };
}
