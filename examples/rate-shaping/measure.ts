/**
 * The figures the rate-shaping example reports, from arrival times: the most INVITEs in any
 * sliding window, the count in each slot of a grid, and percentiles (release lateness).
 * Pure functions over nanosecond timestamps (numbers, process.hrtime's scale).
 */

/** The most times in any half-open window [t, t + windowNs), over every t. Two pointers: O(n log n). */
export function maxInWindow(times: readonly number[], windowNs: number): number {
  if (!(windowNs > 0)) throw new RangeError(`maxInWindow: the window must be > 0 ns; got ${windowNs}`);
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowNs) i++;
    if (j - i + 1 > max) max = j - i + 1;
  }
  return max;
}

/**
 * How far from holding more than `count`: the least `t[i + count] - t[i] - windowNs` over the
 * sorted times (ns). Negative: some half-open window [t, t + windowNs) held more than `count`, and
 * its magnitude is how much wider the spacing needed to be; Infinity when there are at most
 * `count` times.
 */
export function windowSlack(times: readonly number[], count: number, windowNs: number): number {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`windowSlack: the count must be an integer >= 1; got ${count}`);
  const sorted = [...times].sort((a, b) => a - b);
  let least = Infinity;
  for (let i = 0; i + count < sorted.length; i++) least = Math.min(least, sorted[i + count]! - sorted[i]! - windowNs);
  return least;
}

/** The window [start, start + windowNs) holding the most times (the first such), and how many. */
export function busiestWindow(times: readonly number[], windowNs: number): { start: number; count: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { start: NaN, count: 0 };
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowNs) i++;
    if (j - i + 1 > best.count) best = { start: sorted[i]!, count: j - i + 1 };
  }
  return best;
}

/**
 * Counts per slot of a grid: slot k is [origin + k * slotNs, origin + (k + 1) * slotNs). Times
 * before the origin are an error (a wrong origin would misplace every count).
 */
export function perSlot(times: readonly number[], origin: number, slotNs: number): number[] {
  if (!(slotNs > 0)) throw new RangeError(`perSlot: the slot must be > 0 ns; got ${slotNs}`);
  const counts: number[] = [];
  for (const t of times) {
    const k = Math.floor((t - origin) / slotNs);
    if (k < 0) throw new RangeError(`perSlot: the time ${t} is before the origin ${origin}`);
    if (k > 10_000_000) throw new RangeError(`perSlot: the time ${t} is more than 10,000,000 slots after the origin`);
    while (counts.length <= k) counts.push(0);
    counts[k]!++;
  }
  return counts;
}

/** The p-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be 0 to 100; got ${p}`);
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
