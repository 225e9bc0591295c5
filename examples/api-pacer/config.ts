/**
 * api-pacer: outbound HTTP requests queued by the host and sent from a worker thread at no more
 * than the API's quota, 20 requests in any sliding second.
 *
 * - The host pushes each request (a JSON body, keyed by its id) into the queue `requests`,
 *   in bursts (main.ts).
 * - The timer `pacer` (sync, one run every 51 ms) takes one request per run and POSTs it to
 *   `ctx.data.api` (node:http, keep-alive), awaiting the answer: the route is async, and the
 *   thread's other workers keep their deadlines while it waits.
 * - `limit=20/1s` is the guarantee: whatever the pacing does (a run that starts late after a
 *   stall, and the next one on time), the routes of `pacer` never take more than 20 requests in
 *   any sliding second. The pacing is the smoothing: one request per run, never a burst.
 * - Why 51 ms and not 50: the API counts arrivals, not releases, and between the two lie the
 *   thread's turn and the network. At exactly 20/s, request k + 20 is released 1 s after request
 *   k to the microsecond, and arrives a few microseconds "early" whenever its path is quicker;
 *   the API then sees 21 in a second. At 51 ms apart, 20 requests span 1.02 s: 20 ms for the
 *   path to vary in, at 19.6 requests/s (2 % under the quota).
 * - Outcomes are counted in the table `results` (keys `sent`, `ok`, `rejected` for 429,
 *   `failed` for anything else, `held` for runs the limit held back), which the host reads.
 */
import { Agent, request } from 'node:http';
import { defineConfig, type RouteContext, type Table } from 'ptimer';

export interface PacerData {
  /** Where to POST, e.g. http://127.0.0.1:PORT/v1/items. */
  api: string;
  /** How long to wait for an answer (ms). */
  timeoutMs?: number;
}

export default defineConfig({
  queue: ['name=requests;size=10000'],
  table: ['results=>size=4'],
  timer: ['name=pacer;type=1;interval=51ms;ntasks=1;limit=20/1s'],
  loop: ['timer=pacer;route=SEND'],
});

/** One keep-alive connection pool per worker thread (module state lives as long as the thread). */
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function bump(table: Table, key: string, by = 1): void {
  table.set(key, ((table.get(key) as number | undefined) ?? 0) + by); // one worker: one writer per key
}

/** POSTs `body`; resolves with the status code, or 0 when no answer came (error or timeout). */
function post(url: string, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      res.resume(); // the body is not needed; drain it so the connection is reused
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export async function SEND(ctx: RouteContext<Record<string, never>, PacerData>) {
  const queue = ctx.queue('requests');
  const items = queue.take(ctx.ptimer.tasks);
  const results = ctx.table('results');
  if (items.length < ctx.ptimer.tasks && queue.size > 0) bump(results, 'held'); // the window was full
  if (items.length === 0) return;
  bump(results, 'sent', items.length);
  const statuses = await Promise.all(items.map((item) => post(ctx.data.api, String(item.value), ctx.data.timeoutMs ?? 2_000)));
  for (const status of statuses) bump(results, status === 200 ? 'ok' : status === 429 ? 'rejected' : 'failed');
}
