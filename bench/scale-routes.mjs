/**
 * The scale scenario's routes: a loop that does nothing but note how late it began, so that what
 * is measured is the engine. While the bench's "recording" word is set, each run adds its
 * lateness (its own hrtime against ctx.deadline) to its worker's histogram in shared memory:
 * 64 buckets per worker, bucket b = lateness below 2^(b/4) us (about 19 % wide). Each scheduler
 * thread also notes its OS thread id once, for the CPU split between those threads and the rest.
 */
import { readlinkSync } from 'node:fs';
export const BUCKETS = 64;
/** Slots for the OS thread ids of the scheduler threads (data.tids), so the bench can split the CPU. */
export const TID_SLOTS = 64;
let views = null;
let tidNoted = false;

/** Notes this thread's OS thread id in the first free slot, once per thread (Linux: /proc/thread-self). */
function noteThreadId(tids) {
  tidNoted = true;
  let tid = 0;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return; // not Linux: the split is not shown
  }
  for (let i = 0; i < tids.length; i++) {
    const seen = Atomics.compareExchange(tids, i, 0, tid);
    if (seen === 0 || seen === tid) return;
  }
}

export function bucketOf(latenessUs) {
  if (!(latenessUs > 1)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(4 * Math.log2(latenessUs)));
}

export function LOOP(ctx) {
  const data = ctx.data;
  if (!data) return;
  const late = (Number(process.hrtime.bigint()) - ctx.deadline) / 1000;
  views ??= { flag: new Int32Array(data.buffer, 0, 1), counts: new Int32Array(data.buffer, 4) };
  if (!tidNoted && data.tids) noteThreadId(new Int32Array(data.tids));
  if (Atomics.load(views.flag, 0) !== 1) return;
  const index = Number(ctx.ptimer.name.slice(1)) * data.workersPerTimer + ctx.ptimer.worker;
  Atomics.add(views.counts, index * BUCKETS + bucketOf(late), 1);
}
