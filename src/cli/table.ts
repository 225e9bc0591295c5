/** Plain-text tables for `ptimer rpc ptimer.list --table` and `ptimer check`. */
import type { ResolvedSpin, ResolvedTimer } from '../config/types.js';
import type { TimerInfo } from '../control-types.js';

export function renderTable(
  headers: string[],
  rows: string[][],
  rightAligned: ReadonlySet<number> = new Set(),
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Microseconds, readable: `52us`, `1.24ms`, `2.10s`; `-` when unknown. */
export function formatMicros(us: number | null | undefined): string {
  if (typeof us !== 'number' || !Number.isFinite(us)) return '-';
  if (us < 1000) return `${Math.round(us)}us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** Nanoseconds in the interval grammar's units: `100ms`, `250us`, `2s`, `1500ns`. */
export function formatNanos(ns: number): string {
  if (ns === 0) return '0';
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

/** One row per worker: what an operator looks at first. */
export function listTable(timers: TimerInfo[]): string {
  const headers = [
    'TIMER',
    'WORKER',
    'STATE',
    'THREAD',
    'ROUTE',
    'NTASKS',
    'TASKS',
    'SLICE',
    'ITERATIONS',
    'OVERRUNS',
    'ERRORS',
    'LATE p50',
    'p99',
    'max',
  ];
  const rows: string[][] = [];
  for (const t of timers) {
    if (t.workers.length === 0) {
      rows.push([t.name, ...headers.slice(1).map(() => '-')]);
      continue;
    }
    for (const w of t.workers) {
      const measured = w.iterations > 0; // no loop run yet: no lateness to show
      rows.push([
        t.name,
        String(w.worker),
        w.state ?? (w.paused ? 'paused' : 'running'),
        w.thread ?? '-',
        w.route,
        String(w.ntasks),
        String(w.tasks),
        `${w.slice}/${w.nslices}`,
        String(w.iterations),
        String(w.overruns),
        String(w.errors),
        measured ? formatMicros(w.lateness?.p50) : '-',
        measured ? formatMicros(w.lateness?.p99) : '-',
        measured ? formatMicros(w.lateness?.max) : '-',
      ]);
    }
  }
  if (rows.length === 0) return 'no timers';
  return renderTable(headers, rows, new Set([1, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
}

export function formatSpin(spin: ResolvedSpin): string {
  return spin.mode === 'auto' ? `auto (cap ${formatNanos(spin.capNs)})` : formatNanos(spin.ns);
}

/** The resolved timers, every default filled in. */
export function timersTable(timers: ResolvedTimer[]): string {
  const headers = ['TIMER', 'TYPE', 'INTERVAL', 'NWORKERS', 'NTASKS', 'NSLICES', 'SPIN', 'START', 'LOOP', 'END'];
  const rows = timers.map((t) => [
    t.name,
    `${t.type} (${t.typeName})`,
    t.interval,
    String(t.nworkers),
    String(t.ntasks),
    String(t.nslices),
    formatSpin(t.spin),
    t.start ?? '-',
    t.loop,
    t.end ?? '-',
  ]);
  return renderTable(headers, rows, new Set([3, 4, 5]));
}
