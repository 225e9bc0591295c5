/**
 * A stand-in for a rate-limited API: `POST /v1/items` answers 200, or 429 to what would be the
 * 21st accepted request within any sliding second (limit and window configurable). It keeps
 * the last `limit` accepted arrival times, so the check is exact: a request is refused when the
 * `limit`-th accepted request before it arrived less than `windowMs` ago. Refused requests do not
 * count against the quota (as most APIs do). Every arrival is recorded, with its time on the
 * scale of process.hrtime.bigint() (ns, as a number), for the host's figures.
 *
 * Bounds: bodies over 64 KiB are answered 413; at most 1,000,000 arrivals are recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  /** ns, process.hrtime.bigint() scale. */
  at: number;
  status: number;
  id: string | null;
  /** When the client released it (its `x-released-at` header: ns on the same clock), or null. */
  releasedAt: number | null;
}

export interface RateLimitedApi {
  url: string;
  readonly arrivals: readonly Arrival[];
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const MAX_RECORDED = 1_000_000;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

export async function startRateLimitedApi(
  options: { limit?: number; windowMs?: number } = {},
): Promise<RateLimitedApi> {
  const limit = options.limit ?? 20;
  const windowNs = (options.windowMs ?? 1000) * 1e6;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1e6)
    throw new RangeError(`limit must be an integer from 1 to 1e6, got ${limit}`);
  if (!(windowNs > 0)) throw new RangeError(`windowMs must be > 0, got ${options.windowMs}`);
  const accepted: number[] = []; // the last `limit` accepted arrival times, oldest first
  const arrivals: Arrival[] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Number(process.hrtime.bigint()); // when the request arrived, before its body is read
    if (req.method !== 'POST' || req.url !== '/v1/items') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"POST /v1/items"}');
      return;
    }
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413).end();
      return;
    }
    let id: string | null;
    try {
      const parsed = JSON.parse(body) as { id?: unknown };
      id = parsed.id === undefined ? null : typeof parsed.id === 'string' ? parsed.id : JSON.stringify(parsed.id);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"the body is not JSON"}');
      return;
    }
    const full = accepted.length === limit && at - accepted[0]! < windowNs;
    const status = full ? 429 : 200;
    if (!full) {
      accepted.push(at);
      if (accepted.length > limit) accepted.shift();
    }
    const released = Number(req.headers['x-released-at']);
    if (arrivals.length < MAX_RECORDED)
      arrivals.push({ at, status, id, releasedAt: Number.isFinite(released) && released > 0 ? released : null });
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(full ? '{"error":"too many requests"}' : `{"ok":true,"id":${JSON.stringify(id)}}`);
  };
  // Fire and forget: a request answers itself; one that fails unexpectedly loses its connection.
  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/items`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The most arrivals in any sliding window of `windowNs` (times sorted ascending). */
export function maxInWindow(times: readonly number[], windowNs: number): number {
  let max = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= windowNs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}
