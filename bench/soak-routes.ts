/**
 * The soak's routes (bench/soak.ts). Each loop run notes how late it began (its own hrtime
 * against ctx.deadline) in a histogram kept in the worker's `vars`, and about once a second
 * hands what it gathered to the host with ctx.emit('soak', ...): the lateness counts since the
 * last report, the worker's first loop deadline (so the host can count the ticks due from the
 * clock alone), slice checks, and its thread's heap. The host sums the reports per window, so
 * the lateness p99 it prints is that window's, not a cumulative figure. One message per worker
 * per second costs next to nothing beside the runs.
 *
 * Histogram: 64 buckets, bucket b holds lateness up to 2^(b/4) us (each about 19 % wide), as in
 * bench/scale-routes.mjs.
 */
import { getHeapStatistics } from 'node:v8';
import type { RouteContext } from '../src/index.js';

export const BUCKETS = 64;
export const REPORT_EVENT = 'soak';
const REPORT_EVERY_NS = 1e9;

export function bucketOf(latenessUs: number): number {
  if (!(latenessUs > 1)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(4 * Math.log2(latenessUs)));
}

/** The largest lateness bucket `b` holds, in microseconds. */
export function bucketUpperUs(b: number): number {
  return 2 ** (b / 4);
}

/** What a worker reports (ctx.emit data). */
export interface SoakReport {
  /** The deadline of its first loop run since its last start (ns, process.hrtime.bigint() scale). */
  firstDeadline: number;
  /** Loop runs since the last report. */
  runs: number;
  /** Lateness counts since the last report: [bucket, count] for the buckets that have any. */
  counts: Array<[number, number]>;
  /** Slice runs whose `tasks` was not floor((s+1)n/k) - floor(sn/k) (slice types), since the last report. */
  badSlices: number;
  /** used_heap_size of its thread's V8 heap, bytes. */
  heapUsed: number;
  /** ctx.ptimer.tick of the last run. */
  lastTick: number;
}

interface Recorder {
  counts: Float64Array;
  runs: number;
  badSlices: number;
  firstDeadline: number;
  lastTick: number;
  lastReport: number;
}

type SoakContext = RouteContext<{ soak?: Recorder }, { url?: string }>;

function report(ctx: SoakContext, rec: Recorder, now: number): void {
  const counts: Array<[number, number]> = [];
  for (let b = 0; b < BUCKETS; b++) if (rec.counts[b]! > 0) counts.push([b, rec.counts[b]!]);
  const data: SoakReport = {
    firstDeadline: rec.firstDeadline,
    runs: rec.runs,
    counts,
    badSlices: rec.badSlices,
    heapUsed: getHeapStatistics().used_heap_size,
    lastTick: rec.lastTick,
  };
  ctx.emit(REPORT_EVENT, data);
  rec.counts.fill(0);
  rec.runs = 0;
  rec.badSlices = 0;
  rec.lastReport = now;
}

/** Notes this run; reports at the first run and then about once a second. */
function record(ctx: SoakContext): void {
  const now = Number(process.hrtime.bigint());
  let rec = ctx.vars.soak;
  const first = rec === undefined;
  rec ??= ctx.vars.soak = {
    counts: new Float64Array(BUCKETS),
    runs: 0,
    badSlices: 0,
    firstDeadline: ctx.deadline,
    lastTick: 0,
    lastReport: now,
  };
  rec.counts[bucketOf((now - ctx.deadline) / 1000)]!++;
  rec.runs++;
  rec.lastTick = ctx.tick;
  const p = ctx.ptimer;
  if (p.type === 2 || p.type === 3) {
    const expected = Math.floor(((p.slice + 1) * p.ntasks) / p.nslices) - Math.floor((p.slice * p.ntasks) / p.nslices);
    if (p.tasks !== expected) rec.badSlices++;
  }
  if (first || now - rec.lastReport >= REPORT_EVERY_NS) report(ctx, rec, now);
}

/** A loop that only records itself. */
export function SOAK_LOOP(ctx: SoakContext): void {
  record(ctx);
}

/** A loop with async I/O: a GET to the host's loopback HTTP server, body read, status checked. */
export async function SOAK_IO_LOOP(ctx: SoakContext): Promise<void> {
  record(ctx);
  const url = ctx.data?.url;
  if (!url) throw new Error('SOAK_IO_LOOP needs data.url');
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200 || body !== 'ok') throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 80)}`);
}

/** Reports what the last second gathered, so nothing is lost at stop. */
export function SOAK_END(ctx: SoakContext): void {
  const rec = ctx.vars.soak;
  if (rec && rec.runs > 0) report(ctx, rec, Number(process.hrtime.bigint()));
}
