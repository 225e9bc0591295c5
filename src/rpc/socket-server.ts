/**
 * The Unix socket face of the control interface: newline-delimited JSON-RPC 2.0, one
 * request (or batch) per line in, one response per line out. Responses go out as they are
 * ready, so a slow command does not hold up the ones after it (match them by id).
 *
 * The socket file is created with mode 0600 (only its owner may connect: file permissions
 * are the access control here, there is no token) and removed on close. A socket file
 * left behind by a crashed run is replaced; a live one (another server answers on it) or
 * a file that is not a socket is never touched, and the start fails with a message.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { errorResponse, RPC_INVALID_REQUEST, type RpcDispatcher } from './dispatcher.js';
import { MAX_BODY_BYTES } from './http-server.js';
import { closeGracefully, trackConnections } from './graceful-close.js';

export interface SocketServerOptions {
  path: string;
  dispatcher: RpcDispatcher;
  maxLineBytes?: number;
  onError?: (err: unknown) => void;
  /** Told when a stale socket file was removed. */
  onStaleSocket?: (path: string) => void;
}

export interface RunningSocketServer {
  readonly server: Server;
  readonly path: string;
  /** Stops accepting, ends open connections after `graceMs`, removes the socket file. */
  close(graceMs?: number): Promise<void>;
  /** Synchronous removal of the socket file, for a process that must exit at once. */
  removeFileSync(): void;
}

export class SocketInUseError extends Error {
  override name = 'SocketInUseError';
}

export async function startSocketServer(options: SocketServerOptions): Promise<RunningSocketServer> {
  const { path, dispatcher } = options;
  const maxLine = options.maxLineBytes ?? MAX_BODY_BYTES;
  await clearStaleSocket(path, options.onStaleSocket);

  const server = createServer({ allowHalfOpen: true }, (socket) => {
    serveConnection(socket, dispatcher, maxLine, options.onError);
  });
  const connections = trackConnections(server);

  // umask, not chmod after the fact: the file must never exist with wider permissions.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  server.on('error', (err) => options.onError?.(err));

  let removed = false;
  const removeFileSync = (): void => {
    if (removed) return;
    removed = true;
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
    } catch {
      /* already gone */
    }
  };

  return {
    server,
    path,
    removeFileSync,
    async close(graceMs = 1000) {
      await closeGracefully(server, connections, graceMs, () => {
        for (const c of connections) if (!c.readableEnded) c.end();
      });
      removeFileSync();
    },
  };
}

function serveConnection(socket: Socket, dispatcher: RpcDispatcher, maxLine: number, onError?: (err: unknown) => void): void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let discarding = false; // inside a line that went over the limit
  let pending = 0;
  let ended = false;

  const send = (text: string): void => {
    if (!socket.destroyed && socket.writable) socket.write(`${text}\n`);
  };
  const finishIfDone = (): void => {
    if (ended && pending === 0 && !socket.destroyed) socket.end();
  };
  const processLine = (line: Buffer): void => {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    pending++;
    dispatcher
      .handleText(text)
      .then((answer) => {
        if (answer !== undefined) send(answer);
      })
      .catch((err) => {
        onError?.(err);
        send(JSON.stringify(errorResponse(null, 500, 'internal failure')));
      })
      .finally(() => {
        pending--;
        finishIfDone();
      });
  };
  const tooLong = (): void => {
    send(JSON.stringify(errorResponse(null, RPC_INVALID_REQUEST, `invalid request: a line is larger than ${maxLine} bytes`)));
  };

  socket.on('data', (data: Buffer) => {
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      const piece = data.subarray(start, nl);
      start = nl + 1;
      if (discarding) {
        discarding = false;
      } else if (buffered + piece.length > maxLine) {
        tooLong();
      } else {
        processLine(Buffer.concat([...chunks, piece]));
      }
      chunks = [];
      buffered = 0;
    }
    const rest = data.subarray(start);
    if (discarding || rest.length === 0) return;
    if (buffered + rest.length > maxLine) {
      tooLong();
      discarding = true;
      chunks = [];
      buffered = 0;
      return;
    }
    chunks.push(Buffer.from(rest));
    buffered += rest.length;
  });
  socket.on('end', () => {
    // A last request without a newline still counts.
    if (!discarding && buffered > 0) processLine(Buffer.concat(chunks));
    chunks = [];
    ended = true;
    finishIfDone();
  });
  socket.on('error', () => socket.destroy());
}

/** Removes a socket file nobody answers on; refuses to touch a live socket or any other file. */
async function clearStaleSocket(path: string, onStale?: (path: string) => void): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new SocketInUseError(`${path} exists and is not a socket; not replacing it`);
  const probeError = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(null);
    });
    probe.once('error', (err) => resolve(err));
  });
  const live = probeError === null;
  if (probeError && probeError.code !== 'ECONNREFUSED') {
    throw new SocketInUseError(`cannot tell whether ${path} is in use (${probeError.code ?? probeError.message}); not replacing it`);
  }
  if (live) throw new SocketInUseError(`another server is answering on ${path}; stop it or choose another --socket`);
  unlinkSync(path);
  onStale?.(path);
}
