/**
 * api-pacer: outbound HTTP requests queued by the host and sent from a worker thread at no more
 * than the API's quota, 20 requests in any sliding second.
 *
 * - The host pushes each request (a JSON body, keyed by its id) into the queue `requests`,
 *   in bursts (main.ts).
 * - The timer `pacer` (sync, one run every 52.5 ms) takes one request per run and POSTs it to
 *   `ctx.data.api` (node:http, keep-alive). The route is async: it returns once the request is
 *   on the wire, and counts the answer when it comes (at most MAX_IN_FLIGHT unanswered), so a
 *   slow answer never makes a run overrun and drop the next; the end route (DRAIN) waits for
 *   the answers still to come.
 * - `limit=20/1s` is the guarantee: whatever the pacing does (a run that starts late after a
 *   stall, and the next one on time), the routes of `pacer` never take more than 20 requests in
 *   any sliding second. The pacing is the smoothing: one request per run, never a burst.
 * - Why 52.5 ms and not 50: the API counts arrivals, not releases, and between the two lie the
 *   thread's turn, the network and the API's own event loop. At exactly 20/s, request k + 20 is
 *   released 1 s after request k to the microsecond, and arrives a little "early" whenever its
 *   path is quicker: the API then sees 21 in a second (measured: 1 to 3 429s in 8 s). At 52.5 ms,
 *   20 requests span 1.05 s: 50 ms for the release time and the path to vary in (measured with
 *   both cores loaded: up to 15 ms of the first, 20 to 100 ms of the second at the worst), at
 *   19.05 requests/s, 5 % under the quota. Each request carries its release time in a header
 *   (`x-released-at`), so the API's figures show the delay.
 * - Outcomes are counted in the table `results` (keys `sent`, `ok`, `rejected` for 429,
 *   `failed` for anything else, `held` for runs the limit held back, `busy` for runs skipped
 *   because too many answers were outstanding), which the host reads.
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
  timer: ['name=pacer;type=1;interval=52500us;ntasks=1;limit=20/1s'],
  loop: ['timer=pacer;route=SEND'],
  end: ['timer=pacer;route=DRAIN'],
});

/** One keep-alive connection pool per worker thread (module state lives as long as the thread). */
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
/** Requests sent and not yet answered (this thread's). */
const inFlight = new Set<Promise<void>>();
/** More than this many unanswered requests: the API is stuck; take nothing until some answer. */
export const MAX_IN_FLIGHT = 16;

function bump(table: Table, key: string, by = 1): void {
  table.set(key, ((table.get(key) as number | undefined) ?? 0) + by); // one worker: one writer per key
}

/**
 * POSTs `body`. `written` resolves once the request has been handed to the socket; `answered`
 * with the status code, or 0 when no answer came (error or timeout).
 */
function post(
  url: string,
  body: string,
  timeoutMs: number,
  releasedAt: number,
): { written: Promise<void>; answered: Promise<number> } {
  let written!: () => void;
  const sent = new Promise<void>((resolve) => (written = resolve));
  const answered = new Promise<number>((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-released-at': String(releasedAt),
      },
      timeout: timeoutMs,
    });
    req.on('finish', written);
    req.on('response', (res) => {
      res.resume(); // the body is not needed; drain it so the connection is reused
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', () => {
      written();
      resolve(0);
    });
    req.end(body);
  });
  return { written: sent, answered };
}

/**
 * One run: take this run's request (fewer when the limit's window is full), send it, and return
 * once it is on the wire. The answer is counted when it comes, so a slow API never makes the loop
 * overrun: the pace stays the timer's.
 */
export async function SEND(ctx: RouteContext<Record<string, never>, PacerData>) {
  const results = ctx.table('results');
  if (inFlight.size >= MAX_IN_FLIGHT) {
    bump(results, 'busy');
    return;
  }
  const queue = ctx.queue('requests');
  const items = queue.take(ctx.ptimer.tasks);
  const releasedAt = Number(process.hrtime.bigint()); // for the API's figures: release to arrival
  if (items.length < ctx.ptimer.tasks && queue.size > 0) bump(results, 'held'); // the window was full
  if (items.length === 0) return;
  bump(results, 'sent', items.length);
  const sends = items.map((item) => post(ctx.data.api, String(item.value), ctx.data.timeoutMs ?? 2_000, releasedAt));
  for (const { answered } of sends) {
    const counted = answered.then((status) =>
      bump(results, status === 200 ? 'ok' : status === 429 ? 'rejected' : 'failed'),
    );
    inFlight.add(counted);
    void counted.finally(() => inFlight.delete(counted));
  }
  await Promise.all(sends.map((s) => s.written));
}

/** At the end (and on stop): wait for the answers still to come, so that every request is counted. */
export async function DRAIN(ctx: RouteContext<Record<string, never>, PacerData>) {
  const waiting = inFlight.size;
  await Promise.all(inFlight);
  if (waiting > 0) ctx.log.debug({ waiting }, 'answers of the last requests counted');
}
