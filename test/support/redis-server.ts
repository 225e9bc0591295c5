/**
 * A real redis-server for a test: on a free loopback port, in a temp folder, stopped (and the
 * folder removed) by stop(). Fails with a clear message when redis-server is not installed
 * (CI installs it: .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  /** Stops the server (SIGKILL when `hard`), keeping the folder (for a restart with its AOF). */
  kill(hard?: boolean): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export async function startRedis(
  options: { appendonly?: boolean; dir?: string; port?: number } = {},
): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ptimer-redis-'));
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
  ];
  if (options.appendonly) args.push('--appendfsync', 'always');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) =>
      reject(new Error(`cannot start redis-server (install it: apt-get install redis-server): ${e.message}`)),
    ),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    const ok = await Promise.race([
      probe
        .connect()
        .then(() => probe.ping())
        .then(
          () => true,
          () => false,
        ),
      spawnError,
    ]);
    probe.disconnect();
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not come up on 127.0.0.1:${port}: ${output.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = async (hard = false) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    }
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    dir,
    process: child,
    kill,
    stop: async () => {
      await kill(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
