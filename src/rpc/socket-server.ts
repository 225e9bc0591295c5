/**
 * The Unix socket face of the control interface: newline-delimited JSON-RPC 2.0, one
 * request (or batch) per line in, one response per line out. Responses go out as they are
 * ready, so a slow command does not hold up the ones after it (match them by id).
 *
 * The socket file is created with mode 0600 (only its owner may connect: file permissions
 * are the access control here, there is no token) and removed on close. A socket file
 * left behind by a crashed run is replaced; a live one (another server answers on it) or
 * a file that is not a socket is never touched, and the start fails with a message.
 *
 * Bounds (src/rpc/limits.ts): a line of at most 1 MiB, arriving whole within 10 s; past 64
 * clients the idlest one not being answered is closed for each new one (connection-shedding.ts);
 * per client at most 16 requests answered at a time. A client that half-closes after its
 * requests still gets every answer (allowHalfOpen). Writes respect
 * backpressure: while a client's answers sit unread in a full buffer, no more of its
 * requests are read or run, and if it has not read them within 5 s it is closed and its
 * buffers let go. A client with nothing under way for 10 s is closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import { errorResponse, RPC_INVALID_REQUEST, type RpcDispatcher } from './dispatcher.js';
import { closeGracefully, endConnections, trackConnections } from './graceful-close.js';
import { formatBytes, resolveRpcLimits, type RpcLimits } from './limits.js';
import { fileRemover, listenPrivate, probeSocketPath } from './unix-socket-file.js';
import { ConnectionShedder } from './connection-shedding.js';
import type { DropKind } from './drop-log.js';

export interface SocketServerOptions {
  path: string;
  dispatcher: RpcDispatcher;
  /** Same as `limits.maxBodyBytes` (kept for compatibility). */
  maxLineBytes?: number;
  /** Bounds on clients, timeouts and sizes; the defaults of src/rpc/limits.ts otherwise. */
  limits?: Partial<RpcLimits>;
  onError?: (err: unknown) => void;
  /** Told when a client is closed for going over a bound (not reading its answers, idle, shed for a new one, refused). */
  onClientClosed?: (reason: string, kind?: DropKind) => void;
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
  const limits = resolveRpcLimits({ maxBodyBytes: options.maxLineBytes, ...options.limits });
  await clearStaleSocket(path, options.onStaleSocket);

  // Past maxConnections the idlest client is shed for a new one (connection-shedding.ts); a new
  // one is refused only when every open client is being answered.
  const shedder = new ConnectionShedder<Socket>({
    maxConnections: limits.maxConnections,
    graceMs: Math.min(1000, limits.idleTimeoutMs),
  });
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const admission = shedder.admit(socket);
    if (!admission.admitted) {
      options.onClientClosed?.(`all ${shedder.size} socket clients are being answered; refused a new one`, 'refused');
      socket.destroy();
      return;
    }
    socket.once('close', () => shedder.remove(socket));
    if (admission.shed) {
      options.onClientClosed?.(
        `${shedder.size} socket clients open (limit ${limits.maxConnections}); closed the idlest for a new one`,
        'shed',
      );
      admission.shed.destroy();
    }
    serveConnection(socket, {
      dispatcher,
      limits,
      shedder,
      onError: options.onError,
      onClientClosed: options.onClientClosed,
    });
  });
  const connections = trackConnections(server);

  await listenPrivate(server, path);
  server.on('error', (err) => options.onError?.(err));
  const removeFileSync = fileRemover(path);

  return {
    server,
    path,
    removeFileSync,
    async close(graceMs = 1000) {
      await closeGracefully(server, connections, graceMs, () => endConnections(connections));
      removeFileSync();
    },
  };
}

interface ConnectionOptions {
  dispatcher: RpcDispatcher;
  limits: RpcLimits;
  shedder: ConnectionShedder<Socket>;
  onError?: (err: unknown) => void;
  onClientClosed?: (reason: string, kind?: DropKind) => void;
}

/**
 * One client. Complete lines wait in `queue` and go to the dispatcher while fewer than
 * maxInFlightPerConnection are being answered and the socket's write buffer is not full;
 * while either holds them back, reading is paused, so the client's unread requests stay
 * in the kernel, not here. What one client can cost is then about one read chunk of
 * queued lines, its requests in flight, and one write buffer of answers.
 */
function serveConnection(socket: Socket, options: ConnectionOptions): void {
  const { dispatcher, limits, shedder, onError } = options;
  const maxLine = limits.maxBodyBytes;
  let queue: Buffer[] = [];
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let discarding = false; // inside a line that went over the limit
  let pending = 0;
  let ended = false;
  let stuckTimer: NodeJS.Timeout | undefined;
  // A line begun and not finished must be finished within requestTimeoutMs (a dripping client).
  let lineTimer: NodeJS.Timeout | undefined;

  const close = (reason: string, kind: DropKind): void => {
    if (socket.destroyed) return;
    queue = [];
    partial = [];
    socket.destroy();
    options.onClientClosed?.(reason, kind);
  };
  const congested = (): boolean => socket.writableNeedDrain;
  const send = (text: string): void => {
    if (socket.destroyed || !socket.writable) return;
    if (!socket.write(`${text}\n`) && stuckTimer === undefined) {
      stuckTimer = setTimeout(
        () => close(`a client did not read its answers for ${limits.stuckWriteMs} ms: closed it`, 'stuck'),
        limits.stuckWriteMs,
      );
      stuckTimer.unref();
    }
  };
  const finishIfDone = (): void => {
    if (ended && pending === 0 && queue.length === 0 && !socket.destroyed) socket.end();
  };
  const dispatch = (line: Buffer): void => {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    pending++;
    shedder.working(socket);
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
        shedder.answered(socket);
        pump();
      });
  };
  /** Hands queued lines to the dispatcher as far as the bounds allow, and pauses or resumes reading to match. */
  const pump = (): void => {
    if (socket.destroyed) return;
    while (queue.length > 0 && pending < limits.maxInFlightPerConnection && !congested()) dispatch(queue.shift()!);
    const holdBack = queue.length > 0 || congested();
    if (holdBack && !socket.isPaused()) socket.pause();
    else if (!holdBack && socket.isPaused() && !ended) socket.resume();
    finishIfDone();
  };
  const tooLong = (): void => {
    send(
      JSON.stringify(
        errorResponse(
          null,
          RPC_INVALID_REQUEST,
          `invalid request: a line is larger than ${maxLine} bytes (${formatBytes(maxLine)})`,
        ),
      ),
    );
  };

  socket.setTimeout(limits.idleTimeoutMs);
  socket.on('timeout', () => {
    // Idle: nothing queued, in flight or unwritten. A client waiting on a slow command is not idle,
    // and one that does not read is the stuck timer's business.
    if (pending > 0 || queue.length > 0 || socket.writableLength > 0) return;
    close(`a client sent nothing for ${limits.idleTimeoutMs} ms: closed it`, 'idle');
  });
  socket.on('drain', () => {
    clearTimeout(stuckTimer);
    stuckTimer = undefined;
    pump();
  });
  socket.on('data', (data: Buffer) => {
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      const piece = data.subarray(start, nl);
      start = nl + 1;
      if (discarding) {
        discarding = false;
      } else if (partialBytes + piece.length > maxLine) {
        tooLong();
      } else {
        queue.push(partial.length === 0 ? piece : Buffer.concat([...partial, piece]));
      }
      partial = [];
      partialBytes = 0;
    }
    const rest = data.subarray(start);
    if (rest.length === 0 || start > 0) {
      clearTimeout(lineTimer);
      lineTimer = undefined;
    }
    if (rest.length > 0 && lineTimer === undefined) {
      lineTimer = setTimeout(() => {
        if (socket.destroyed) return;
        options.onClientClosed?.(
          `a client's line did not arrive whole within ${limits.requestTimeoutMs} ms: closed it`,
          'timeout',
        );
        queue = [];
        partial = [];
        partialBytes = 0;
        discarding = true;
        socket.pause();
        const line = JSON.stringify(
          errorResponse(
            null,
            RPC_INVALID_REQUEST,
            `invalid request: a line did not arrive whole within ${limits.requestTimeoutMs} ms`,
          ),
        );
        if (socket.writable) socket.end(`${line}\n`);
        setTimeout(() => socket.destroy(), limits.stuckWriteMs).unref();
      }, limits.requestTimeoutMs);
      lineTimer.unref();
    }
    if (!discarding && rest.length > 0) {
      if (partialBytes + rest.length > maxLine) {
        tooLong();
        discarding = true;
        partial = [];
        partialBytes = 0;
      } else {
        partial.push(Buffer.from(rest));
        partialBytes += rest.length;
      }
    }
    pump();
  });
  socket.on('end', () => {
    clearTimeout(lineTimer);
    // A last request without a newline still counts.
    if (!discarding && partialBytes > 0) queue.push(Buffer.concat(partial));
    partial = [];
    ended = true;
    pump();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    clearTimeout(stuckTimer);
    clearTimeout(lineTimer);
    queue = [];
    partial = [];
  });
}

/** Removes a socket file nobody answers on; refuses to touch a live socket or any other file. */
async function clearStaleSocket(path: string, onStale?: (path: string) => void): Promise<void> {
  const state = await probeSocketPath(path);
  if (state === 'free') return;
  if (state === 'not-socket') throw new SocketInUseError(`${path} exists and is not a socket; not replacing it`);
  if (state === 'answering')
    throw new SocketInUseError(`another server is answering on ${path}; stop it or choose another --socket`);
  if (state !== 'stale')
    throw new SocketInUseError(`cannot tell whether ${path} is in use (${state.code}); not replacing it`);
  unlinkSync(path);
  onStale?.(path);
}
