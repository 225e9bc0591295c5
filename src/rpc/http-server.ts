/**
 * The HTTP face of the control interface: `POST /RPC` (JSON-RPC 2.0) and `GET /metrics`
 * (Prometheus text).
 *
 * Safety, because these commands stop and start a production's timers:
 * - It binds loopback unless told otherwise; any other address needs a bearer token, and
 *   without one the server refuses to start.
 * - With a token, every request must carry `Authorization: Bearer TOKEN` (compared in
 *   constant time).
 * - A browser must not be a way in: requests with an `Origin` header are refused (a web
 *   page may POST to 127.0.0.1 without asking), and without a token the Host header must
 *   name a loopback host (against DNS rebinding).
 * - A body over the limit (1 MiB) is refused with 413 and a JSON-RPC error; the rest of
 *   it is read and dropped so that the client sees the answer, and the server goes on.
 * - A token on a non-loopback address must be at least 16 visible ASCII characters, not a run
 *   of a few (at least 6 different ones); no token may be blank or padded with whitespace.
 *
 * Bounds (src/rpc/limits.ts), so that no client can hold the server's memory or
 * connections: past 64 connections the idlest one that is not being answered is closed for
 * each new one (connection-shedding.ts: idle, slowloris and reconnecting clients cannot keep
 * the operator out); a new one is refused only when every open one is being answered; the headers must arrive
 * within 5 s and the whole request within 10 s (else 408); an idle keep-alive connection
 * is closed after 5 s; a connection with nothing under way (an answer the client does not
 * read, for one) is closed after 10 s of no progress. A connection waiting on a slow
 * command is not idle. Pipelined requests are answered one at a time, and Node stops
 * reading a connection whose answers are not read. Malformed HTTP is answered 400 (431
 * for oversized headers, 408 for a timeout) with a JSON-RPC error body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { errorResponse, RPC_INVALID_REQUEST, type RpcDispatcher } from './dispatcher.js';
import type { Metrics } from './metrics.js';
import { closeGracefully, trackConnections } from './graceful-close.js';
import { formatBytes, MAX_BODY_BYTES, resolveRpcLimits, type RpcLimits } from './limits.js';
import { listenOn } from './unix-socket-file.js';
import { ConnectionShedder, LISTEN_BACKLOG } from './connection-shedding.js';
import type { DropReporter } from './drop-log.js';

import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from './defaults.js';

export { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT };
export { MAX_BODY_BYTES };
/** The shortest token accepted for a non-loopback address. */
export const MIN_TOKEN_LENGTH = 16;
/** Past this, an oversized body is no longer drained: the connection is cut. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (see `address`). */
  port: number;
  dispatcher: RpcDispatcher;
  metrics?: Metrics;
  /** Required when `host` is not a loopback address. */
  token?: string;
  /** Same as `limits.maxBodyBytes` (kept for compatibility). */
  maxBodyBytes?: number;
  /** Bounds on connections, timeouts and sizes; the defaults of src/rpc/limits.ts otherwise. */
  limits?: Partial<RpcLimits>;
  onError?: (err: unknown) => void;
  /** Told when a connection is shed, refused or cut off by a deadline (for the log and the metrics). */
  onDrop?: DropReporter;
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** e.g. `http://127.0.0.1:8711/RPC` */
  readonly url: string;
  /** Stops accepting, ends idle connections, cuts the rest after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export class HttpServerConfigError extends Error {
  override name = 'HttpServerConfigError';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** `HOST:PORT`, `:PORT`, `PORT`, `[::1]:PORT` -> host and port. */
export function parseHostPort(text: string, defaultHost = DEFAULT_HTTP_HOST): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m)
    throw new HttpServerConfigError(
      `"${text}" is not HOST:PORT (e.g. 127.0.0.1:${DEFAULT_HTTP_PORT}, [::1]:${DEFAULT_HTTP_PORT} or :${DEFAULT_HTTP_PORT})`,
    );
  const host = m[1] || m[2] || defaultHost;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new HttpServerConfigError(`port ${m[3]} is out of range (0-65535)`);
  return { host, port };
}

/** The fewest different characters a token off loopback may have (`aaaaaaaaaaaaaaaa` has one). */
export const MIN_TOKEN_VARIETY = 6;

/**
 * What the token policy finds wrong with serving on `host` with `token`: nothing; no token,
 * one too short, or one too weak (off loopback); or, anywhere, a blank token or one with
 * whitespace at either end (a client's `Authorization: Bearer TOKEN` can never match it, so
 * every request would get 401).
 */
export function tokenShortfall(
  host: string,
  token: string | undefined,
): 'missing' | 'short' | 'blank' | 'weak' | undefined {
  if (token !== undefined && token !== '' && (token.trim() === '' || token.trim() !== token)) return 'blank';
  if (isLoopbackHost(host)) return undefined;
  if (!token) return 'missing';
  if (token.length < MIN_TOKEN_LENGTH) return 'short';
  // Off loopback the token is all that guards the timers: visible ASCII only, and not a run of a few characters.
  if (!/^[\x21-\x7e]+$/.test(token) || new Set(token).size < MIN_TOKEN_VARIETY) return 'weak';
  return undefined;
}

/**
 * Why `token` cannot guard `host`, or undefined when it can: a non-loopback address needs a
 * token of at least 16 visible ASCII characters, at least 6 of them different; no token may be
 * blank or have whitespace at either end.
 */
export function tokenProblem(host: string, token: string | undefined): string | undefined {
  const shortfall = tokenShortfall(host, token);
  const example = 'e.g. openssl rand -hex 16';
  if (shortfall === 'missing') {
    return `refusing to serve the control interface on ${host}, which is not a loopback address, without a token: give --rpc-token TOKEN (or PTIMER_RPC_TOKEN), or bind 127.0.0.1`;
  }
  if (shortfall === 'short') {
    return `refusing to serve the control interface on ${host}, which is not a loopback address, with a token of ${token!.length} character${token!.length === 1 ? '' : 's'}: a token there must be at least ${MIN_TOKEN_LENGTH} characters (${example})`;
  }
  if (shortfall === 'blank') {
    return `refusing to serve the control interface with a token that is blank or has whitespace at either end: no client could send it, and every request would be refused; give a token of visible characters (${example})`;
  }
  if (shortfall === 'weak') {
    return `refusing to serve the control interface on ${host}, which is not a loopback address, with a weak token: a token there must be visible ASCII characters (no spaces), at least ${MIN_TOKEN_VARIETY} of them different (this one has ${new Set(token).size}); ${example}`;
  }
  return undefined;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host, dispatcher, metrics } = options;
  const limits = resolveRpcLimits({ maxBodyBytes: options.maxBodyBytes, ...options.limits });
  const maxBody = limits.maxBodyBytes;
  const token = options.token || undefined;
  const problem = tokenProblem(host, token);
  if (problem) throw new HttpServerConfigError(problem);
  const tokenDigest = token ? digest(token) : undefined;

  // Connections whose request is with the dispatcher (a slow command), or waiting its turn: not idle.
  const busy = new WeakMap<Socket, number>();
  // Per connection, the answer before: pipelined requests are read and answered one at a time,
  // each once the answer before it has left this process (its 'close'), so that a client that
  // pipelines requests and does not read the answers holds one answer here, not one per request.
  const previous = new WeakMap<Socket, Promise<void>>();
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (default 30 s, which would let them run late).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      const socket = req.socket;
      busy.set(socket, (busy.get(socket) ?? 0) + 1);
      // Working (never shed) from the moment the whole request is in until its answer is out.
      let working = false;
      const markWorking = (): void => {
        if (working || res.writableEnded) return;
        working = true;
        shedder.working(socket);
      };
      if (req.complete) markWorking();
      else req.once('end', markWorking);
      const answered = new Promise<void>((resolve) =>
        res.once('close', () => {
          if (working) shedder.answered(socket);
          resolve();
        }),
      );
      const before = previous.get(socket);
      previous.set(socket, answered);
      (before ?? Promise.resolve())
        .then(() => (socket.destroyed ? undefined : handle(req, res)))
        .catch((err) => {
          if (err === ABORTED) return; // the client went away: nobody to answer
          options.onError?.(err);
          if (!res.headersSent) sendJson(res, 500, errorResponse(null, 500, 'internal failure'));
          else res.destroy();
        })
        .finally(() => busy.set(socket, (busy.get(socket) ?? 1) - 1));
    },
  );
  // Past maxConnections the idlest connection is shed for a new one (connection-shedding.ts);
  // a new one is refused only when every open connection is being answered.
  const shedder = new ConnectionShedder<Socket>({
    maxConnections: limits.maxConnections,
    graceMs: Math.min(1000, limits.headersTimeoutMs),
  });
  server.on('connection', (socket: Socket) => {
    const admission = shedder.admit(socket);
    if (!admission.admitted) {
      options.onDrop?.(`all ${shedder.size} HTTP connections are being answered; refused a new one`, 'refused');
      socket.destroy();
      return;
    }
    socket.once('close', () => shedder.remove(socket));
    if (admission.shed) {
      options.onDrop?.(
        `${shedder.size} HTTP connections open (limit ${limits.maxConnections}); closed the idlest for a new one`,
        'shed',
      );
      admission.shed.destroy();
    }
  });
  const sockets = trackConnections(server);
  // No progress for idleTimeoutMs: a client that does not read its answer, or sits on an open connection.
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => {
    if ((busy.get(socket) ?? 0) > 0 && socket.writableLength === 0) return; // waiting on a slow command
    options.onDrop?.(
      `an HTTP connection made no progress for ${limits.idleTimeoutMs} ms; closed`,
      socket.writableLength > 0 ? 'stuck' : 'idle',
    );
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      options.onDrop?.('an HTTP request did not arrive whole in time; answered 408 and closed', 'timeout');
    const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || (pending && pending.headersSent)) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = clientErrorAnswer(err, limits);
    const body = JSON.stringify(errorResponse(null, RPC_INVALID_REQUEST, message));
    const answer = (): void => {
      if (!socket.writable) return void socket.destroy();
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      socket.destroySoon();
    };
    // A pipelined request before the malformed one is still being answered: that answer goes first.
    // (A request cut short by a timeout is never answered by the handler: answer it here.)
    if (pending && !pending.writableFinished && pending.req?.complete) {
      pending.once('finish', answer);
      pending.once('close', () => socket.destroySoon());
    } else {
      answer();
    }
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];

    if (req.headers.origin !== undefined) {
      return refuse(req, res, 403, 'requests from web pages (with an Origin header) are refused');
    }
    if (tokenDigest) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), tokenDigest)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="ptimer"');
        return refuse(
          req,
          res,
          401,
          m ? 'wrong bearer token' : 'a bearer token is required: send Authorization: Bearer TOKEN',
        );
      }
    } else if (!isLoopbackHost(hostOfHeader(req.headers.host))) {
      return refuse(
        req,
        res,
        403,
        `the Host header ${JSON.stringify(req.headers.host ?? '')} does not name a loopback host`,
      );
    }

    if (path === '/RPC' || path === '/rpc') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return refuse(req, res, 405, 'use POST for JSON-RPC requests');
      }
      const body = await readBody(req, maxBody);
      if (body === null) {
        return sendJson(
          res,
          413,
          errorResponse(
            null,
            RPC_INVALID_REQUEST,
            `invalid request: the body is larger than ${maxBody} bytes (${formatBytes(maxBody)})`,
          ),
        );
      }
      const answer = await dispatcher.handleText(body.toString('utf8'));
      if (answer === undefined) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
      return;
    }
    if (path === '/metrics' && metrics) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return refuse(req, res, 405, 'use GET for /metrics');
      }
      req.resume();
      const text = await metrics.render();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    return refuse(
      req,
      res,
      404,
      `nothing at ${path}: JSON-RPC is at POST /RPC${metrics ? ', metrics at GET /metrics' : ''}`,
    );
  }

  await listenOn(server, { host, port: options.port, backlog: LISTEN_BACKLOG });
  server.on('error', (err) => options.onError?.(err));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;

  return {
    server,
    host,
    port,
    url: `http://${urlHost}:${port}/RPC`,
    close(graceMs = 1000) {
      return closeGracefully(server, sockets, graceMs, () => server.closeIdleConnections());
    },
  };
}

const ABORTED = new Error('request aborted by the client');

/** Status, reason phrase and message for a request Node's parser refused (or that took too long). */
function clientErrorAnswer(err: NodeJS.ErrnoException, limits: RpcLimits): [number, string, string] {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        'Request Timeout',
        `invalid request: the request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
      ];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'invalid request: the request headers are too large'];
    default: {
      const reason =
        typeof (err as { reason?: unknown }).reason === 'string'
          ? (err as unknown as { reason: string }).reason
          : err.message;
      return [400, 'Bad Request', `invalid request: malformed HTTP (${reason.slice(0, 120)})`];
    }
  }
}

/** The body, or null when it is over the limit (the rest is read and dropped, up to a point). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (over) {
        chunks.length = 0;
        if (size > MAX_DRAIN_BYTES) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!req.complete)
        reject(ABORTED); // cut short (a timeout): never a partial body
      else resolve(over ? null : Buffer.concat(chunks));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(ABORTED);
    });
  });
}

function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  req.resume(); // drop any body
  sendJson(res, status, errorResponse(null, status, message));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function hostOfHeader(host: string | undefined): string {
  if (!host) return '';
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return m ? m[1]! : host;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
