/**
 * Route errors in the log without drowning it: a route that throws on every 1 ms run would
 * otherwise write a stack trace a millisecond (about 600 KB/s).
 *
 * Per worker and route, the first `fullFirst` errors (default 5) are logged in full, with their
 * stack. Later ones are counted, and once per `periodMs` (default 10 s) one line says how many
 * there were and the last message:
 *   loop route of worker 0 of "t" threw 2481 more times in the last 10 s (last: boom)
 * A worker whose route has been quiet for a whole period gets its full lines back. Whatever is
 * still counted when ptimer stops is logged then. Only the log is thinned: the worker's `errors`
 * counter, the metrics and the `routeError` events see every error.
 *
 * The main thread does this (the threads post every error to it anyway, for the events), so the
 * budget survives a thread's restart and a thread spends nothing on it. `RouteErrorSummarizer`
 * is the pure bookkeeping, on a clock it is given; `RouteErrorLog` logs, and checks for due
 * summaries every second while any are pending (an unref'd timer: it never holds the process).
 */
import type { Logger } from 'pino';
import type { RouteKind } from '../core/words.js';
import { reviveError, type ErrorRecord } from './log-forward.js';

export const DEFAULT_FULL_ERRORS = 5;
export const DEFAULT_SUMMARY_PERIOD_MS = 10_000;
const CHECK_EVERY_MS = 1_000;

/** Where an error happened. */
export interface RouteErrorSite {
  timer: string;
  worker: number;
  route: RouteKind;
  /** The route's export name. */
  routeName?: string;
  /** The scheduler thread's label. */
  thread?: string;
}

export interface RouteErrorSummary {
  site: RouteErrorSite;
  /** Errors not logged in full since the last summary. */
  count: number;
  /** From the first of them to now. */
  sinceMs: number;
  /** The last one's message. */
  last: string;
}

export interface SummarizerOptions {
  fullFirst?: number;
  periodMs?: number;
}

interface SiteState {
  site: RouteErrorSite;
  /** Logged in full since the site was last quiet for a period. */
  full: number;
  /** Counted, not logged, since the last summary. */
  count: number;
  windowStart: number;
  last: string;
  lastAt: number;
}

function checkedCount(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export class RouteErrorSummarizer {
  readonly fullFirst: number;
  readonly periodMs: number;
  private readonly sites = new Map<string, SiteState>();

  constructor(options: SummarizerOptions = {}) {
    this.fullFirst = checkedCount('fullFirst', options.fullFirst ?? DEFAULT_FULL_ERRORS, 0, 1_000);
    this.periodMs = checkedCount('periodMs', options.periodMs ?? DEFAULT_SUMMARY_PERIOD_MS, 1, 86_400_000);
  }

  /** One error at `now` (ms): `full` to log it in full, `counted` if a summary will tell of it. */
  record(site: RouteErrorSite, message: string, now: number): 'full' | 'counted' {
    const key = `${site.timer}\u0000${site.worker}\u0000${site.route}`;
    let state = this.sites.get(key);
    if (!state)
      this.sites.set(key, (state = { site, full: 0, count: 0, windowStart: now, last: '', lastAt: -Infinity }));
    if (state.count === 0 && now - state.lastAt >= this.periodMs) state.full = 0;
    state.lastAt = now;
    if (state.full < this.fullFirst) {
      state.full++;
      return 'full';
    }
    if (state.count === 0) state.windowStart = now;
    state.count++;
    state.last = message;
    return 'counted';
  }

  /** Whether this error (just recorded as full) was the last one logged in full for a while. */
  lastFull(site: RouteErrorSite): boolean {
    return this.sites.get(`${site.timer}\u0000${site.worker}\u0000${site.route}`)?.full === this.fullFirst;
  }

  /** The summaries whose period is over at `now`; a site quiet for a period is forgotten. */
  due(now: number): RouteErrorSummary[] {
    return this.take(now, false);
  }

  /** Every pending summary, due or not (at stop). */
  flush(now: number): RouteErrorSummary[] {
    return this.take(now, true);
  }

  /** Whether a summary is waiting to be given. */
  get pending(): boolean {
    for (const state of this.sites.values()) if (state.count > 0) return true;
    return false;
  }

  private take(now: number, all: boolean): RouteErrorSummary[] {
    const out: RouteErrorSummary[] = [];
    for (const [key, state] of this.sites) {
      if (state.count > 0 && (all || now - state.windowStart >= this.periodMs)) {
        out.push({
          site: state.site,
          count: state.count,
          sinceMs: Math.max(0, now - state.windowStart),
          last: state.last,
        });
        state.count = 0;
      } else if (state.count === 0 && now - state.lastAt >= this.periodMs) {
        this.sites.delete(key);
      }
    }
    return out;
  }
}

/** "10 s", "2.5 s": a summary's span. */
export function formatSpan(ms: number): string {
  const s = ms / 1000;
  return s >= 9.95 ? `${Math.round(s)} s` : `${Math.max(0.1, Math.round(s * 10) / 10)} s`;
}

export function summaryMessage(summary: RouteErrorSummary): string {
  const { site, count, sinceMs, last } = summary;
  const shown = last.length > 200 ? `${last.slice(0, 200)}...` : last;
  return `${site.route} route of worker ${site.worker} of "${site.timer}" threw ${count} more time${count === 1 ? '' : 's'} in the last ${formatSpan(sinceMs)} (last: ${shown})`;
}

export interface RouteErrorLogOptions extends SummarizerOptions {
  /** The clock, in ms (default Date.now). */
  now?: () => number;
}

/** Logs route errors through a logger, in full or summarised. */
export class RouteErrorLog {
  private readonly summarizer: RouteErrorSummarizer;
  private readonly now: () => number;
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    options: RouteErrorLogOptions = {},
  ) {
    this.summarizer = new RouteErrorSummarizer(options);
    this.now = options.now ?? Date.now;
  }

  report(site: RouteErrorSite, err: ErrorRecord): void {
    if (this.summarizer.record(site, err.message, this.now()) === 'counted') {
      if (!this.ticker) {
        this.ticker = setInterval(() => this.tick(), Math.min(CHECK_EVERY_MS, this.summarizer.periodMs));
        this.ticker.unref();
      }
      return;
    }
    const { timer, worker, route, routeName, thread } = site;
    const more = this.summarizer.lastFull(site)
      ? ` (later errors of this route are counted and summarised every ${formatSpan(this.summarizer.periodMs)})`
      : '';
    this.logger.error(
      { ...(thread !== undefined ? { thread } : {}), timer, worker, route, err: reviveError(err) },
      `${route} route ${routeName ?? ''}${routeName ? ' ' : ''}threw: ${err.message}${more}`,
    );
  }

  /** Logs the summaries that are due (called every second while any are pending). */
  tick(): void {
    this.write(this.summarizer.due(this.now()));
    if (!this.summarizer.pending && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  /** Logs every pending summary and stops the timer (at stop; reporting again restarts it). */
  flush(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.write(this.summarizer.flush(this.now()));
  }

  private write(summaries: RouteErrorSummary[]): void {
    for (const summary of summaries) {
      const { timer, worker, route, thread } = summary.site;
      this.logger.error(
        {
          ...(thread !== undefined ? { thread } : {}),
          timer,
          worker,
          route,
          errors: summary.count,
          periodMs: Math.round(summary.sinceMs),
          lastError: summary.last,
        },
        summaryMessage(summary),
      );
    }
  }
}
