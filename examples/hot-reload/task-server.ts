/**
 * The task list's HTTP server for hot-reload: `GET /tasks` answers what `source()` says at that
 * moment (a status and a body). main.ts's walkthrough sets it in memory; with `--tasks FILE` it
 * is the file, read at each request (a missing file is a 503), so an operator edits the file
 * and sends `ptimer rpc ptimer.start t1`. Loopback only, on a port of its own (0: a free one).
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  status: number;
  body: string;
}

export interface TaskServer {
  url: string;
  /** GETs answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

const MAX_FILE_BYTES = 1024 * 1024;

/** A source that serves `path` as it is at each request. */
export function fileSource(path: string): () => Answer {
  return () => {
    try {
      if (statSync(path).size > MAX_FILE_BYTES) return { status: 503, body: `${path} is over ${MAX_FILE_BYTES} bytes` };
      return { status: 200, body: readFileSync(path, 'utf8') };
    } catch (err) {
      return {
        status: 503,
        body: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      };
    }
  };
}

export async function startTaskServer(source: () => Answer, port = 0): Promise<TaskServer> {
  let requests = 0;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/tasks') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /tasks');
      return;
    }
    requests++;
    const { status, body } = source();
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/tasks`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
