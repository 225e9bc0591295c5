/**
 * What the control servers drop or refuse (a connection shed or refused, a request cut off by
 * a deadline, one that is malformed, an answer nobody read), logged without drowning the log
 * and counted for /metrics.
 *
 * Why (issue 19): 1 MB of `{}` written to the FIFO made 72.5 MB of log, a warning per dropped
 * request. Now, as route errors are (src/runtime/route-error-log.ts): per transport and kind,
 * the first `fullFirst` (default 5) are logged in full; later ones are counted, and once per
 * `periodMs` (default 10 s) one line says how many there were and the last reason:
 *   fifo: 524283 more requests dropped (bad-request) in the last 10 s (last: request not run: ...)
 * A kind quiet for a whole period gets its full lines back; what is still counted at close is
 * logged then. The counts themselves (every drop) are `ptimer_rpc_drops_total{transport,kind}`.
 *
 * The clock is given (Date.now by default), and due summaries are checked every second while
 * any are pending (an unref'd timer, never holding the process).
 */
import { Counter, type Registry } from 'prom-client';
import { formatSpan } from '../runtime/route-error-log.js';

export const DROP_KINDS = ['shed', 'refused', 'timeout', 'idle', 'stuck', 'bad-request', 'undelivered'] as const;
/**
 * shed: an idle connection closed to make room for a new one; refused: a new connection closed
 * because every open one was being answered; timeout: a request that did not arrive whole in
 * time; idle: a connection that sent nothing for too long; stuck: a client that did not read
 * its answers; bad-request: input that could not be run; undelivered: an answer that could
 * not be delivered.
 */
export type DropKind = (typeof DROP_KINDS)[number];
export type DropTransport = 'http' | 'socket' | 'binrpc' | 'fifo' | 'dgram';
/** What the servers call: a reason for the log, and its kind for the counts. */
export type DropReporter = (reason: string, kind?: DropKind) => void;

export const DEFAULT_FULL_DROPS = 5;
export const DEFAULT_DROP_PERIOD_MS = 10_000;
const CHECK_EVERY_MS = 1_000;

interface DropLogger {
  warn(obj: object, msg: string): void;
}

interface KindState {
  transport: DropTransport;
  kind: DropKind;
  /** Logged in full since the kind was last quiet for a period. */
  full: number;
  /** Counted, not logged, since the last summary. */
  count: number;
  windowStart: number;
  last: string;
  lastAt: number;
  /** Every drop of this kind, for the metrics. */
  total: number;
}

export interface DropLogOptions {
  fullFirst?: number;
  periodMs?: number;
  now?: () => number;
}

export class TransportDropLog {
  readonly fullFirst: number;
  readonly periodMs: number;
  private readonly now: () => number;
  private readonly kinds = new Map<string, KindState>();
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: DropLogger,
    options: DropLogOptions = {},
  ) {
    this.fullFirst = options.fullFirst ?? DEFAULT_FULL_DROPS;
    this.periodMs = options.periodMs ?? DEFAULT_DROP_PERIOD_MS;
    this.now = options.now ?? Date.now;
  }

  /** A reporter for one transport's `onDrop`; a drop without a kind counts as bad-request. */
  reporter(transport: DropTransport): DropReporter {
    return (reason, kind = 'bad-request') => this.report(transport, kind, reason);
  }

  report(transport: DropTransport, kind: DropKind, reason: string): void {
    const now = this.now();
    const key = `${transport}\u0000${kind}`;
    let s = this.kinds.get(key);
    if (!s)
      this.kinds.set(
        key,
        (s = { transport, kind, full: 0, count: 0, windowStart: now, last: '', lastAt: -Infinity, total: 0 }),
      );
    s.total++;
    if (s.count === 0 && now - s.lastAt >= this.periodMs) s.full = 0;
    s.lastAt = now;
    if (s.full < this.fullFirst) {
      s.full++;
      const more =
        s.full === this.fullFirst
          ? ` (later ones of this kind are counted and summarised every ${formatSpan(this.periodMs)})`
          : '';
      this.logger.warn({ transport, drop: kind }, `${reason}${more}`);
      return;
    }
    if (s.count === 0) s.windowStart = now;
    s.count++;
    s.last = reason;
    if (!this.ticker) {
      this.ticker = setInterval(() => this.tick(), Math.min(CHECK_EVERY_MS, this.periodMs));
      this.ticker.unref();
    }
  }

  /** Every drop so far, per transport and kind (for /metrics). */
  totals(): Array<{ transport: DropTransport; kind: DropKind; count: number }> {
    return [...this.kinds.values()].map((s) => ({ transport: s.transport, kind: s.kind, count: s.total }));
  }

  /** Logs the summaries that are due. */
  tick(): void {
    this.write(false);
    let pending = false;
    for (const s of this.kinds.values()) if (s.count > 0) pending = true;
    if (!pending && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  /** Logs every pending summary and stops the timer (at close). */
  flush(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.write(true);
  }

  private write(all: boolean): void {
    const now = this.now();
    for (const s of this.kinds.values()) {
      if (s.count === 0 || (!all && now - s.windowStart < this.periodMs)) continue;
      const span = Math.max(0, now - s.windowStart);
      const shown = s.last.length > 200 ? `${s.last.slice(0, 200)}...` : s.last;
      this.logger.warn(
        { transport: s.transport, drop: s.kind, drops: s.count, periodMs: Math.round(span) },
        `${s.transport}: ${s.count} more dropped (${s.kind}) in the last ${formatSpan(span)} (last: ${shown})`,
      );
      s.count = 0;
    }
  }
}

/** What /metrics reads: every drop so far, per transport and kind. */
export interface DropTotals {
  totals(): Array<{ transport: string; kind: string; count: number }>;
}

/** `ptimer_rpc_drops_total{transport,kind}`, read from `drops` at each scrape. */
export function registerDropMetrics(registry: Registry, drops: DropTotals): void {
  new Counter({
    name: 'ptimer_rpc_drops_total',
    help: 'What the control servers dropped or refused, per transport and kind: shed (an idle connection closed for a new one), refused, timeout, idle, stuck, bad-request, undelivered.',
    labelNames: ['transport', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of drops.totals()) this.inc({ transport: d.transport, kind: d.kind }, d.count);
    },
  });
}
