/**
 * `ptimer top`: a live table of every worker, refreshed every second (as top(1) is for
 * processes): state, thread, route, runs per second, overruns, errors, loop lateness
 * p50/p99. It polls `ptimer.list` (one request per refresh; the server reads shared memory,
 * no round trip to the workers) and computes runs/s from the change in `iterations`.
 *
 * On a terminal it draws on the alternate screen with the cursor hidden, reads keys in raw
 * mode, and quits on `q` or Ctrl-C; whichever way it ends (a key, a signal, an error), it
 * restores the terminal: raw mode off, cursor shown, the normal screen back. Not on a terminal
 * (a pipe), it prints one frame after another. `--once` prints one frame and exits.
 *
 * Below the workers, one row per queue (from `ptimer.queues`, polled with the list): items
 * queued and the capacity, items pushed and taken per second, pushes refused (full) and items
 * expired (maxage) in all. A server without queues, or one too old to know the method, shows none.
 *
 * The pure parts (rows from two samples, the frame's text, what a key does) are exported for
 * the tests; `TopSession` takes its clock and timers from the caller, so it runs on virtual time.
 */
import type { TimerInfo, WorkerInfo } from '../control-types.js';
import type { PTimerClient } from '../client/connect.js';
import { RpcCallError } from '../rpc/client.js';
import { CliError, EXIT_FAILURE, EXIT_OK, parse, parsePositiveNumber, UsageError } from './args.js';
import { TOP_HELP } from './help.js';
import type { Io } from './rpc.js';
import { formatMicros, renderTable } from './table.js';
import { connectOrUsage, parseTarget, TARGET_OPTIONS } from './target.js';

const OPTIONS = {
  ...TARGET_OPTIONS,
  interval: { type: 'string', short: 'd' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MIN_INTERVAL_S = 0.1;
const MAX_INTERVAL_S = 60;

/** One `ptimer.list` answer (and `ptimer.queues`) and when it came (ms, any monotonic scale). */
export interface TopSample {
  atMs: number;
  timers: TimerInfo[];
  queues?: QueueSample[];
}

/** One queue as `ptimer.queues` answers it (the fields top shows). */
export interface QueueSample {
  name: string;
  size: number;
  capacity: number;
  pushed: number;
  taken: number;
  refused: number;
  expired: number;
}

export interface QueueRow {
  queue: string;
  size: number;
  capacity: number;
  /** Per second since the previous sample; null on the first. */
  pushedPerSecond: number | null;
  takenPerSecond: number | null;
  refused: number;
  expired: number;
}

/** The queue rows of a frame: rates from the change since `previous`. */
export function queueRows(previous: TopSample | undefined, current: TopSample): QueueRow[] {
  const before = new Map((previous?.queues ?? []).map((q) => [q.name, q]));
  const seconds = previous ? (current.atMs - previous.atMs) / 1000 : 0;
  const rate = (now: number, then: number | undefined) =>
    seconds > 0 && then !== undefined && now >= then ? (now - then) / seconds : null;
  return (current.queues ?? []).map((q) => ({
    queue: q.name,
    size: q.size,
    capacity: q.capacity,
    pushedPerSecond: rate(q.pushed, before.get(q.name)?.pushed),
    takenPerSecond: rate(q.taken, before.get(q.name)?.taken),
    refused: q.refused,
    expired: q.expired,
  }));
}

export interface TopRow {
  timer: string;
  worker: number;
  /** `booting`, `running`, `paused`, ... once the runtime lists it; null before. */
  state: string | null;
  thread: string | null;
  route: string;
  /** Loop runs per second since the previous sample; null on the first sample or after a reset. */
  runsPerSecond: number | null;
  overruns: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

/** The rows of a frame: per worker, rates from the change since `previous`. */
export function topRows(previous: TopSample | undefined, current: TopSample): TopRow[] {
  const before = new Map<string, WorkerInfo>();
  for (const t of previous?.timers ?? []) for (const w of t.workers) before.set(`${t.name}\0${w.worker}`, w);
  const seconds = previous ? (current.atMs - previous.atMs) / 1000 : 0;
  const rows: TopRow[] = [];
  for (const t of current.timers) {
    for (const w of t.workers) {
      const old = before.get(`${t.name}\0${w.worker}`);
      const delta = old ? w.iterations - old.iterations : NaN;
      // state and thread come with the thread-pool runtime; a server before it lists neither.
      const extra = w as Partial<Pick<WorkerInfo, 'state' | 'thread'>>;
      const measured = w.iterations > 0 && w.lateness && w.lateness.count > 0;
      rows.push({
        timer: t.name,
        worker: w.worker,
        state: typeof extra.state === 'string' ? extra.state : null,
        thread: extra.thread === undefined || extra.thread === null ? null : String(extra.thread),
        route: w.route,
        runsPerSecond: seconds > 0 && delta >= 0 ? delta / seconds : null,
        overruns: w.overruns,
        errors: w.errors,
        p50: measured ? w.lateness.p50 : null,
        p99: measured ? w.lateness.p99 : null,
      });
    }
  }
  return rows;
}

function formatRate(r: number | null): string {
  if (r === null) return '-';
  if (r >= 100) return String(Math.round(r));
  return r.toFixed(1);
}

export interface FrameInfo {
  server: string;
  /** Wall-clock time of the sample, for the header. */
  time: Date;
  /** Why the last refresh failed, if it did (the rows are then the last good ones). */
  error?: string;
  /** Cut lines to this width (the terminal's), if given. */
  columns?: number;
  /** Cut to this many lines (the terminal's rows), if given. */
  lines?: number;
}

/** The text of one frame: a header line, then one row per worker, then one per queue. */
export function renderTop(rows: TopRow[], info: FrameInfo, queues: QueueRow[] = []): string {
  const timers = new Set(rows.map((r) => r.timer)).size;
  const clock = info.time.toISOString().slice(11, 19);
  const header = `ptimer top - ${info.server} - ${clock} UTC - ${timers} timer${timers === 1 ? '' : 's'}, ${rows.length} worker${rows.length === 1 ? '' : 's'} - q to quit`;
  const table =
    rows.length === 0
      ? 'no timers'
      : renderTable(
          ['TIMER', 'WORKER', 'STATE', 'THREAD', 'ROUTE', 'RUNS/s', 'OVERRUNS', 'ERRORS', 'LATE p50', 'p99'],
          rows.map((r) => [
            r.timer,
            String(r.worker),
            r.state ?? '-',
            r.thread ?? '-',
            r.route,
            formatRate(r.runsPerSecond),
            String(r.overruns),
            String(r.errors),
            formatMicros(r.p50),
            formatMicros(r.p99),
          ]),
          new Set([1, 5, 6, 7, 8, 9]),
        );
  const queueTable =
    queues.length === 0
      ? []
      : [
          '',
          ...renderTable(
            ['QUEUE', 'ITEMS', 'CAPACITY', 'IN/s', 'OUT/s', 'REFUSED', 'EXPIRED'],
            queues.map((q) => [
              q.queue,
              String(q.size),
              String(q.capacity),
              formatRate(q.pushedPerSecond),
              formatRate(q.takenPerSecond),
              String(q.refused),
              String(q.expired),
            ]),
            new Set([1, 2, 3, 4, 5, 6]),
          ).split('\n'),
        ];
  let lines = [header, ...(info.error ? [`! ${info.error}`] : []), '', ...table.split('\n'), ...queueTable];
  if (info.lines !== undefined && lines.length > info.lines) {
    const keep = Math.max(1, info.lines - 1);
    lines = [...lines.slice(0, keep), `... ${lines.length - keep} more lines`];
  }
  if (info.columns !== undefined) lines = lines.map((l) => (l.length > info.columns! ? l.slice(0, info.columns) : l));
  return `${lines.join('\n')}\n`;
}

/** What a key pressed does: `q`, `Q`, Ctrl-C and Ctrl-D quit; anything else nothing. */
export function keyAction(data: string | Uint8Array): 'quit' | null {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  // eslint-disable-next-line no-control-regex -- Ctrl-C and Ctrl-D are the control characters looked for
  return /[qQ\x03\x04]/.test(text) ? 'quit' : null;
}

/** Escape sequences: the alternate screen, the cursor, clearing. */
export const TERMINAL = {
  enter: '\x1b[?1049h\x1b[?25l',
  leave: '\x1b[?25h\x1b[?1049l',
  home: '\x1b[H\x1b[2J',
} as const;

export interface TopScreen {
  write(text: string): void;
  /** A terminal: draw in place. Otherwise frames are printed one after another. */
  readonly tty: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export interface TopClock {
  /** Monotonic ms. */
  now(): number;
  /** Wall clock, for the header. */
  date(): Date;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * One run of `ptimer top`: polls, draws, and ends with an exit code when `quit()` is called
 * (a key, a signal) or when the very first poll fails (no server: exit 1 with the reason).
 * Later failures are shown in the frame and polling goes on (a server that restarts comes back).
 */
export class TopSession {
  private previous: TopSample | undefined;
  private rows: TopRow[] = [];
  private queues: QueueRow[] = [];
  /** False once the server said it does not know ptimer.queues. */
  private askQueues = true;
  private timer: unknown = null;
  private finished = false;
  private polls = 0;
  private resolveDone!: (code: number) => void;
  readonly done = new Promise<number>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly client: Pick<PTimerClient, 'list' | 'server'> & { call?: PTimerClient['call'] },
    private readonly screen: TopScreen,
    private readonly clock: TopClock,
    private readonly options: { intervalMs: number; once?: boolean; onFirstError?: (message: string) => void },
  ) {}

  start(): Promise<number> {
    if (this.screen.tty && !this.options.once) this.screen.write(TERMINAL.enter);
    void this.poll();
    return this.done;
  }

  key(data: string | Uint8Array): void {
    if (keyAction(data) === 'quit') this.quit(EXIT_OK);
  }

  quit(code: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.screen.tty && !this.options.once) this.screen.write(TERMINAL.leave);
    this.resolveDone(code);
  }

  private async poll(): Promise<void> {
    if (this.finished) return;
    let error: string | undefined;
    try {
      const [timers, queues] = await Promise.all([this.client.list(), this.pollQueues()]);
      const sample = { atMs: this.clock.now(), timers, queues };
      this.rows = topRows(this.previous, sample);
      this.queues = queueRows(this.previous, sample);
      this.previous = sample;
    } catch (err) {
      error =
        err instanceof RpcCallError
          ? `error ${err.code}: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err);
      if (this.polls === 0) {
        this.options.onFirstError?.(error);
        this.quit(EXIT_FAILURE);
        return;
      }
    }
    this.polls++;
    if (this.finished) return;
    // --once: two samples one interval apart (runs/s needs two), then one frame.
    if (!(this.options.once && this.polls < 2)) this.draw(error);
    if (this.options.once && this.polls >= 2) return this.quit(error ? EXIT_FAILURE : EXIT_OK);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      void this.poll();
    }, this.options.intervalMs);
  }

  /** The queues' counts; none from a server that has no such method (an older ptimer). */
  private async pollQueues(): Promise<QueueSample[] | undefined> {
    if (!this.askQueues || !this.client.call) return undefined;
    try {
      return await this.client.call('ptimer.queues');
    } catch (err) {
      if (err instanceof RpcCallError && err.code === -32601) {
        this.askQueues = false;
        return undefined;
      }
      throw err;
    }
  }

  private draw(error: string | undefined): void {
    const frame = renderTop(
      this.rows,
      {
        server: this.client.server,
        time: this.clock.date(),
        error,
        // A pseudo-terminal may report 0x0: then nothing is cut.
        columns: this.screen.tty && this.screen.columns ? this.screen.columns : undefined,
        lines: this.screen.tty && this.screen.rows ? this.screen.rows : undefined,
      },
      this.queues,
    );
    this.screen.write(
      this.screen.tty && !this.options.once
        ? `${TERMINAL.home}${frame}`
        : this.polls > 1 && !this.options.once
          ? `\n${frame}`
          : frame,
    );
  }
}

export async function topCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('top', args, OPTIONS);
  if (values.help) {
    io.out(TOP_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`top takes no arguments, got ${positionals.join(' ')}`, 'top');
  const intervalS = values.interval === undefined ? 1 : parsePositiveNumber('top', '--interval', values.interval);
  if (intervalS < MIN_INTERVAL_S || intervalS > MAX_INTERVAL_S) {
    throw new UsageError(
      `--interval must be between ${MIN_INTERVAL_S} and ${MAX_INTERVAL_S} seconds, got ${values.interval}`,
      'top',
    );
  }
  const { target, options } = parseTarget('top', values, process.env);
  // A refresh must not wait longer than a few intervals for its answer.
  if (values.timeout === undefined) options.timeoutMs = Math.max(2000, intervalS * 3000);
  const client: PTimerClient = connectOrUsage('top', target, options);

  const stdout = process.stdout;
  const stdin = process.stdin;
  const tty = Boolean(stdout.isTTY);
  let firstError: string | undefined;
  const session = new TopSession(
    client,
    {
      write: (text) => void stdout.write(text),
      tty,
      get columns() {
        return stdout.columns;
      },
      get rows() {
        return stdout.rows;
      },
    },
    {
      now: () => performance.now(),
      date: () => new Date(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    { intervalMs: intervalS * 1000, once: Boolean(values.once), onFirstError: (m) => (firstError = m) },
  );

  // A reader that went away (`ptimer top | head`) ends top quietly, as it ends `top -b | head`.
  const onOutputError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') session.quit(EXIT_OK);
    else session.quit(EXIT_FAILURE);
  };
  stdout.on('error', onOutputError);
  const rawMode = Boolean(stdin.isTTY) && !values.once;
  const onKey = (data: Buffer) => session.key(data);
  const onSignal = () => session.quit(EXIT_OK);
  const restore = () => {
    if (rawMode && stdin.isRaw) stdin.setRawMode(false);
    if (tty && !values.once) stdout.write(TERMINAL.leave); // again on an unexpected exit: harmless if already left
  };
  if (rawMode) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', restore);
  try {
    const code = await session.start();
    if (firstError !== undefined) throw new CliError(firstError);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', restore);
    stdout.off('error', onOutputError);
    if (rawMode) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
    await client.close();
  }
}
