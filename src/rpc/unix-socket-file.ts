/**
 * The files of the Unix-socket transports (the JSON-RPC socket, BINRPC on a stream socket,
 * jsonrpcs on a datagram socket and its FIFO): claiming a path, listening with private
 * permissions, and removing the file again; and `listenOn`, the listen every server awaits.
 *
 * A socket file left by a run that crashed is replaced; a live one, or a file that is not a
 * socket, is never touched. Liveness is probed with a stream connect, which tells all cases
 * apart: it connects to a live stream socket, fails with EPROTOTYPE on a live datagram
 * socket, and with ECONNREFUSED when nobody is bound to the file any more. Each transport
 * words its own errors (its flag, and what the tests and operators know), from one probe.
 */
import { connect, type Server } from 'node:net';
import { chmodSync, lstatSync, unlinkSync, type Stats } from 'node:fs';
import { LISTEN_BACKLOG } from './connection-shedding.js';

export class SocketFileError extends Error {
  override name = 'SocketFileError';
}

/**
 * What is at `path`: nothing (`free`), a socket nobody is bound to (`stale`: the caller removes
 * it), a file that is not a socket, a stream server answering (`answering`), or the probe's
 * error code (`EPROTOTYPE`: a live datagram socket; anything else: cannot tell). lstat errors
 * other than ENOENT are thrown as they are.
 */
export async function probeSocketPath(
  path: string,
): Promise<'free' | 'stale' | 'not-socket' | 'answering' | { code: string }> {
  try {
    if (!lstatSync(path).isSocket()) return 'not-socket';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'free';
    throw err;
  }
  const code = await new Promise<string | null>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(null);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  if (code === null) return 'answering';
  return code === 'ECONNREFUSED' ? 'stale' : { code };
}

/** Makes `path` free to bind for the transport of `flag`: nothing there, or a stale socket file (removed; `onStale` is told). */
export async function claimSocketPath(path: string, flag: string, onStale?: (path: string) => void): Promise<void> {
  let state: Awaited<ReturnType<typeof probeSocketPath>>;
  try {
    state = await probeSocketPath(path);
  } catch (err) {
    throw new SocketFileError(`${flag} ${path}: ${(err as Error).message}`);
  }
  if (state === 'free') return;
  if (state === 'stale') {
    unlinkSync(path);
    onStale?.(path);
    return;
  }
  if (state === 'not-socket')
    throw new SocketFileError(`${flag} ${path}: the file exists and is not a socket; not replacing it`);
  if (state === 'answering' || state.code === 'EPROTOTYPE')
    throw new SocketFileError(`${flag} ${path}: another server is answering there; stop it or choose another path`);
  throw new SocketFileError(`${flag} ${path}: cannot tell whether it is in use (${state.code}); not replacing it`);
}

/** Removes the file at `path` if it still is of its kind (a socket, unless told otherwise); once. */
export function fileRemover(path: string, isKind: (s: Stats) => boolean = (s) => s.isSocket()): () => void {
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    try {
      if (isKind(lstatSync(path))) unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
}

/** Runs `bind` with a umask that makes any file it creates 0600 from the first moment. */
export async function withPrivateUmask<T>(bind: () => Promise<T>): Promise<T> {
  const old = process.umask(0o177);
  try {
    return await bind();
  } finally {
    process.umask(old);
  }
}

/** `server.listen(...args)`, resolved once listening, rejected by an error before that. */
export function listenOn(server: Server, ...args: unknown[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => Server)(...args, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Listens on the Unix socket `path`, the file 0600 from the first moment (umask, not chmod after the fact). */
export async function listenPrivate(server: Server, path: string): Promise<void> {
  await withPrivateUmask(() => listenOn(server, { path, backlog: LISTEN_BACKLOG }));
  chmodSync(path, 0o600);
}
