/**
 * A JSON-RPC client for a running `ptimer run`: over HTTP (`POST /RPC`) or over its Unix
 * socket (one line out, one line back). `ptimer rpc` is built on it.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from './defaults.js';

export const DEFAULT_RPC_URL = `http://${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}/RPC`;

export interface RpcTarget {
  /** `http://HOST:PORT` (the path defaults to /RPC). Ignored when `socket` is given. */
  url?: string;
  socket?: string;
  token?: string;
  timeoutMs?: number;
}

/** The server answered with an error object. */
export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcCallError';
  }
}

/** No answer: nothing listens, the connection broke, the answer was not JSON-RPC, or it took too long. */
export class RpcTransportError extends Error {
  override name = 'RpcTransportError';
}

let nextId = 1;

export async function callRpc(
  target: RpcTarget,
  method: string,
  params?: unknown[] | Record<string, unknown>,
): Promise<unknown> {
  const request: Record<string, unknown> = { jsonrpc: '2.0', method, id: nextId++ };
  if (params !== undefined) request.params = params;
  const text = JSON.stringify(request);
  const answer = target.socket ? await viaSocket(target.socket, text, target.timeoutMs) : await viaHttp(target, text);
  let response: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  try {
    response = JSON.parse(answer) as typeof response; // its shape is checked below
  } catch {
    throw new RpcTransportError(`the server's answer is not JSON: ${answer.slice(0, 200)}`);
  }
  if (response && typeof response === 'object' && response.error) {
    const e = response.error;
    throw new RpcCallError(
      typeof e.code === 'number' ? e.code : 0,
      typeof e.message === 'string' ? e.message : JSON.stringify(e),
      e.data,
    );
  }
  if (!response || typeof response !== 'object' || !('result' in response)) {
    throw new RpcTransportError(`the server's answer is not a JSON-RPC response: ${answer.slice(0, 200)}`);
  }
  return response.result;
}

/** `http://h:p` -> `http://h:p/RPC`; a URL with a path is kept. */
export function rpcUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`);
  } catch {
    throw new RpcTransportError(`"${url}" is not a URL (e.g. ${DEFAULT_RPC_URL})`);
  }
  if (u.protocol !== 'http:')
    throw new RpcTransportError(`"${url}": only http:// is served (use --socket for the Unix socket)`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/RPC';
  return u;
}

function viaHttp(target: RpcTarget, body: string): Promise<string> {
  const url = rpcUrl(target.url ?? DEFAULT_RPC_URL);
  const where = url.href;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    };
    if (target.token) headers.Authorization = `Bearer ${target.token}`;
    const req = httpRequest(url, { method: 'POST', headers, timeout: target.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new RpcTransportError(`${where}: ${err.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 204) return reject(new RpcTransportError(`${where}: no answer (HTTP 204)`));
        // Refusals (401, 403, 413...) carry a JSON-RPC error body: let the caller show its message.
        if (/^\s*\{/.test(text)) return resolve(text);
        reject(new RpcTransportError(`${where}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      });
    });
    req.on('timeout', () =>
      req.destroy(new RpcTransportError(`${where}: no answer within ${(target.timeoutMs ?? 30_000) / 1000} s`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RpcTransportError) return reject(err);
      reject(new RpcTransportError(connectMessage(where, err)));
    });
    req.end(body);
  });
}

function viaSocket(path: string, body: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    let done = false;
    const finish = (err: Error | null, value?: string): void => {
      if (done) return;
      done = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () =>
      finish(new RpcTransportError(`${path}: no answer within ${timeoutMs / 1000} s`)),
    );
    socket.on('connect', () => socket.write(`${body}\n`));
    socket.on('data', (data: string) => {
      buffer += data;
      const nl = buffer.indexOf('\n');
      if (nl !== -1) finish(null, buffer.slice(0, nl));
    });
    socket.on('end', () =>
      finish(new RpcTransportError(`${path}: the server closed the connection without answering`)),
    );
    socket.on('error', (err: NodeJS.ErrnoException) => finish(new RpcTransportError(connectMessage(path, err))));
  });
}

function connectMessage(where: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `no ptimer server answers at ${where} (connection refused); is \`ptimer run\` running there?`;
    case 'ENOENT':
      return `no ptimer server at ${where} (no such socket file); is \`ptimer run --socket ${where}\` running?`;
    case 'EACCES':
      return `${where}: permission denied (the socket is readable by its owner only)`;
    case 'ECONNRESET':
      return `${where}: the connection was reset before an answer came`;
    default:
      return `${where}: ${err.message}`;
  }
}
