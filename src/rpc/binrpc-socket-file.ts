/**
 * The socket files of the Kamailio-tool transports (BINRPC on a Unix stream socket, jsonrpcs
 * on a Unix datagram socket): claiming a path and removing the file again.
 *
 * A socket file left by a run that crashed is replaced; a live one, or a file that is not a
 * socket, is never touched. Liveness is probed with a stream connect, which tells all cases
 * apart: it connects to a live stream socket, fails with EPROTOTYPE on a live datagram
 * socket, and with ECONNREFUSED when nobody is bound to the file any more.
 */
import { connect } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';

export class SocketFileError extends Error {
  override name = 'SocketFileError';
}

/** Makes `path` free to bind: nothing there, or a stale socket file (removed; `onStale` is told). */
export async function claimSocketPath(path: string, flag: string, onStale?: (path: string) => void): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new SocketFileError(`${flag} ${path}: ${(err as Error).message}`);
  }
  if (!isSocket) throw new SocketFileError(`${flag} ${path}: the file exists and is not a socket; not replacing it`);
  const code = await new Promise<string | null>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(null);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  if (code === 'ECONNREFUSED') {
    unlinkSync(path);
    onStale?.(path);
    return;
  }
  if (code === null || code === 'EPROTOTYPE') throw new SocketFileError(`${flag} ${path}: another server is answering there; stop it or choose another path`);
  throw new SocketFileError(`${flag} ${path}: cannot tell whether it is in use (${code}); not replacing it`);
}

/** Removes the socket file at `path` if it still is one; once. */
export function socketFileRemover(path: string): () => void {
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
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
